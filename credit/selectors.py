"""What credit answers to the stages above it: is this person held back from this step, and
why (the reason is shown to staff and to the person, naming the record and its period)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext

from archive.crypto import blind_index
from archive.models import Document
from credit import evidence
from credit.models import Effect, Proposal, Record, Repair, Subject


@dataclass(frozen=True)
class Hold:
    """A record in effect that stops an action: what the page says about it."""

    record: Record
    effect: str

    @property
    def reason(self) -> str:
        r = self.record
        return gettext(
            "%(name)s有尚在影响期内的失信记录：%(conduct)s（%(level)s，"
            "%(county)s %(decided_on)s 认定，影响期至 %(last_day)s），%(effect)s。"
        ) % {
            "name": r.subject.name,
            "conduct": r.conduct.name,
            "level": r.get_level_display(),
            "county": r.county.name,
            "decided_on": f"{r.decided_on:%Y-%m-%d}",
            "last_day": f"{r.last_day:%Y-%m-%d}",
            "effect": Effect(self.effect).label,
        }


def records_of(id_numbers: list[str], on: date) -> QuerySet[Record]:
    """Records in effect on `on` for any of these people (one query, by blind index)."""
    keys = [blind_index(n.strip().upper()) for n in id_numbers if n]
    return (
        Record.objects.filter(
            Record.in_effect_q(on),
            subject__kind=Subject.Kind.PERSON,
            subject__id_index__in=keys,
        )
        .select_related("subject", "conduct", "county")
        .order_by("-decided_on")
    )


def holds(id_numbers: list[str], effect: str, on: date) -> list[Hold]:
    """The records that stop `effect` (apply, allocate, renew) for any of these people."""
    return [Hold(r, effect) for r in records_of(id_numbers, on) if effect in r.effects]


def held_back_ids(id_indexes: list[str], effect: str, on: date) -> set[str]:
    """Of these blind indexes, the ones held back from `effect` (for set-based callers)."""
    rows = Record.objects.filter(
        Record.in_effect_q(on),
        subject__kind=Subject.Kind.PERSON,
        subject__id_index__in=id_indexes,
        effects__contains=[effect],
    ).values_list("subject__id_index", flat=True)
    return set(rows)


def open_proposals_of(id_numbers: list[str]) -> QuerySet[Proposal]:
    """Proposals about these people still open: what they may object to, and until when."""
    keys = [blind_index(n.strip().upper()) for n in id_numbers if n]
    return (
        Proposal.objects.filter(
            subject__kind=Subject.Kind.PERSON,
            subject__id_index__in=keys,
            status__in=[Proposal.Status.NOTIFIED, Proposal.Status.OBJECTED],
        )
        .select_related("subject", "conduct", "county")
        .order_by("objection_until")
    )


def is_about(proposal_or_record, id_numbers: list[str]) -> bool:
    """Whether a proposal or record concerns one of these people (checked by blind index)."""
    keys = {blind_index(n.strip().upper()) for n in id_numbers if n}
    subject = proposal_or_record.subject
    return subject.kind == Subject.Kind.PERSON and subject.id_index in keys


# --- evidence files -------------------------------------------------------------------------


def evidence_files(proposal: Proposal) -> list[dict]:
    """Every file kept for a proposal: its own, its objection's, and its record's repairs'
    (what the staff pages list, and the only files the proposal's file view will serve)."""
    found = labelled(proposal.evidence)
    for repair in Repair.objects.filter(record__proposal=proposal).order_by("created_at", "pk"):
        found += labelled(repair.evidence)
    return found


def labelled(entries: list) -> list[dict]:
    """The file entries of an evidence list, each with the name of the field it came from."""
    return [
        f | {"label": evidence.LABELS.get(f.get("step"), evidence.OTHER)}
        for f in evidence.files_of(entries)
    ]


def evidence_document(proposal: Proposal, sha256: str) -> Document | None:
    """The stored file, if it belongs to this proposal (a known hash alone opens nothing)."""
    if not any(f["file"] == sha256 for f in evidence_files(proposal)):
        return None
    return Document.objects.filter(sha256=sha256).first()


# --- statistics over time --------------------------------------------------------------------


@dataclass(frozen=True)
class Month:
    """One month's movement: records that took effect, whose period ended, that were repaired."""

    start: date
    effective: int
    expired: int
    repaired: int


def month_starts(today: date, months: int = 12) -> list[date]:
    """The first days of the last `months` months, this one included, oldest first."""
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def monthly(records: QuerySet[Record], today: date, months: int = 12) -> list[Month]:
    """By month, up to today: records taking effect (decided), expiring (their period ended,
    the day they leave the public list, unless repaired before), and repaired. Three grouped
    queries, whatever the number of records."""
    starts = month_starts(today, months)
    first = starts[0]

    def counted(field: str, *where: Q) -> dict[date, int]:
        rows = (
            records.filter(*where, **{f"{field}__gte": first, f"{field}__lte": today})
            .annotate(month=TruncMonth(field))
            .order_by()
            .values("month")
            .annotate(n=Count("pk"))
        )
        return {r["month"]: r["n"] for r in rows}

    effective = counted("decided_on")
    expired = counted(
        "effective_until", Q(repaired_on__isnull=True) | Q(repaired_on__gte=F("effective_until"))
    )
    repaired = counted("repaired_on")
    return [Month(m, effective.get(m, 0), expired.get(m, 0), repaired.get(m, 0)) for m in starts]
