"""Reading publications: lists with filters, one version, its history and differences."""

from dataclasses import dataclass
from datetime import date

from django.db.models import IntegerField, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from disclosure.models import Kind, Outbox, Publication
from geo.models import Estate
from geo.ordering import natural_key


@dataclass
class NoticeFilter:
    kind: str = ""
    county: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""


def notices(f: NoticeFilter) -> QuerySet[Publication]:
    """Current versions, newest first, with the filters a visitor chose."""
    qs = (
        Publication.objects.current()
        .select_related("region")
        .defer("items", "data", "region__boundary")
    )
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.county:
        qs = qs.filter(Q(region__adcode=f.county) | Q(region__parent__adcode=f.county))
    if f.date_from:
        qs = qs.filter(published_at__date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(published_at__date__lte=f.date_to)
    if f.q:
        qs = qs.filter(Q(title__contains=f.q) | Q(body__contains=f.q))
    return qs.order_by("-published_at", "-id")


def version(series_id: int, number: int | None) -> Publication:
    """One version of a series (the newest when no number is given); DoesNotExist otherwise."""
    qs = Publication.objects.select_related("region", "supersedes").defer("region__boundary")
    if number is None:
        return qs.filter(series_id=series_id).order_by("-version")[:1].get()
    return qs.get(series_id=series_id, version=number)


def history(series_id: int) -> list[Publication]:
    return list(
        Publication.objects.filter(series_id=series_id)
        .only("id", "series_id", "version", "published_at", "content_hash", "correction_reason")
        .order_by("version")
    )


@dataclass
class RowChange:
    """One row of the list as a reader recognises it (its first columns), with what changed."""

    label: str
    changes: list[tuple[str, str, str]]  # (column, before, after)


@dataclass
class ItemDiff:
    """Rows added, removed and changed, named by what the list shows, not by internal keys."""

    added: list[RowChange]
    removed: list[RowChange]
    changed: list[RowChange]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _cell(value) -> str:
    return "" if value is None else str(value)


def diff_items(old: list[dict], new: list[dict], columns: list[dict]) -> ItemDiff:
    """Rows added, removed and changed between two versions, matched by their key; each named by
    its first two columns (e.g. 张*丰 340321********1234) and, when changed, by the cells."""
    shown = [c for c in columns if not c["key"].startswith("_")]
    before = {row["_key"]: row for row in old}
    after = {row["_key"]: row for row in new}

    def label(row: dict) -> str:
        return " ".join(_cell(row.get(c["key"])) for c in shown[:2]).strip() or str(row["_key"])

    def changed(key: str) -> RowChange:
        cells = [
            (c["label"], _cell(before[key].get(c["key"])), _cell(after[key].get(c["key"])))
            for c in shown
            if before[key].get(c["key"]) != after[key].get(c["key"])
        ]
        return RowChange(label(after[key]), cells)

    return ItemDiff(
        added=[RowChange(label(r), []) for k, r in after.items() if k not in before],
        removed=[RowChange(label(r), []) for k, r in before.items() if k not in after],
        changed=[changed(k) for k in after if k in before and before[k] != after[k]],
    )


def filtered_items(publication: Publication, q: str, sort: str, descending: bool) -> list[dict]:
    """The list as a visitor searches and sorts it (works without JavaScript)."""
    rows = publication.items
    if q:
        rows = [r for r in rows if any(q in str(v) for v in r.values() if v is not None)]
    keys = {c["key"] for c in publication.columns}
    if sort in keys:
        # Natural order: 2号楼 before 10号楼, numbers by value; empty cells last.
        rows = sorted(rows, key=lambda r: natural_key(r.get(sort)), reverse=descending)
    return rows


def released_estate(publication: Publication) -> Estate | None:
    """The published estate a vacancy release lists (its outbox row names it), in one query."""
    if publication.kind != Kind.VACANCY_RELEASE:
        return None
    subject = (
        Outbox.objects.filter(pk=publication.outbox_id)
        .annotate(estate_id=Cast(KT("payload__subject__estate"), IntegerField()))
        .values("estate_id")[:1]
    )
    return Estate.objects.published().filter(pk=Subquery(subject)).only("id", "name").first()
