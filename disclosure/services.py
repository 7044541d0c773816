"""Publishing: the outbox written with a decision, and the worker's step that publishes it."""

import json
import os
import time
from datetime import UTC

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from procrastinate.contrib.django import app

from archive.services import record_event
from disclosure.calendar import add_working_days
from disclosure.hashing import canonical_json, content_hash
from disclosure.masking import mask_rows
from disclosure.models import Kind, Objection, Outbox, Publication, Series
from geo.models import Region


class PublishError(Exception):
    """The request cannot be published as asked (the message says why, in Chinese)."""


def document_of(publication: Publication) -> dict:
    """What a version says, exactly as hashed; the JSON download is these bytes.

    `data` is only present when a version carries some, so older hashes stay valid.
    """
    document = {
        "series": publication.series_id,
        "version": publication.version,
        "supersedes": publication.supersedes.content_hash if publication.supersedes else None,
        "correction_reason": publication.correction_reason,
        "kind": publication.kind,
        "region": publication.region.adcode,
        "title": publication.title,
        "body": publication.body,
        "columns": publication.columns,
        "items": publication.items,
        "published_at": _utc(publication.published_at),
        "period_ends_at": _utc(publication.period_ends_at),
    }
    if publication.data:
        document["data"] = publication.data
    return document


def _utc(moment) -> str | None:
    """Times in UTC, so the same instant always serializes (and hashes) the same way."""
    return moment.astimezone(UTC).isoformat() if moment else None


@transaction.atomic
def enqueue_publication(
    *,
    kind: str,
    region: Region,
    title: str,
    body: str = "",
    columns: list[dict] | None = None,
    rows: list[dict] | None = None,
    period_working_days: int | None = None,
    supersedes: Publication | None = None,
    reason: str = "",
    actor=None,
    masked: bool = False,
    subject: dict | None = None,
    data: dict | None = None,
) -> Outbox:
    """Write the outbox row inside the caller's transaction; a worker publishes it after commit.

    Rows are masked here, so nothing unmasked is stored even while waiting; `data` is published
    as given and must hold no personal data (public keys, numbers, hashes).
    """
    if kind not in Kind.values:
        raise PublishError(f"未知的公开类别：{kind}")
    if supersedes is not None and not reason.strip():
        raise PublishError("更正须说明原因。")
    if supersedes is not None:
        latest = Publication.objects.select_for_update().get(pk=supersedes.pk)
        if (
            hasattr(latest, "superseded_by")
            or Outbox.objects.filter(
                payload__supersedes=latest.pk, processed_at__isnull=True
            ).exists()
        ):
            raise PublishError("该版本已被更正或正在更正，请在最新版本上更正。")
    if supersedes is not None and data is None:
        data = supersedes.data  # a correction keeps what it does not correct
    columns = list(columns or [])
    payload = {
        "title": title,
        "body": body,
        "columns": columns,
        # Rows of an earlier version are masked already; masking twice would erase them.
        "items": list(rows or []) if masked else mask_rows(columns, list(rows or [])),
        "subject": subject or {},
        "data": data or None,
        "period_working_days": period_working_days,
        "supersedes": supersedes.pk if supersedes else None,
        "reason": reason.strip(),
    }
    outbox = Outbox.objects.create(
        kind=kind,
        region=region,
        series=supersedes.series if supersedes else None,
        payload=json.loads(canonical_json(payload)),
        actor=actor if actor is not None and actor.is_authenticated else None,
    )
    transaction.on_commit(lambda: _defer(outbox.pk))
    return outbox


PUBLISH_TASK = "disclosure.tasks.publish_outbox"


def _defer(outbox_id: int) -> None:
    """Queue the publishing job by its name (disclosure.tasks imports this module, not the
    other way round)."""
    app.configure_task(PUBLISH_TASK, queue="publications").defer(outbox_id=outbox_id)


def process_outbox(outbox_id: int) -> Publication | None:
    """Turn one outbox row into its publication, exactly once.

    The row is locked, the publication written and the row marked in one transaction: a worker
    killed half-way leaves nothing behind and the row is taken up again; a second worker finds
    it locked or done, and the unique outbox link forbids a second publication.
    """
    with transaction.atomic():
        outbox = (
            Outbox.objects.select_for_update(skip_locked=True)
            .filter(pk=outbox_id, processed_at__isnull=True)
            .first()
        )
        if outbox is None:
            return Publication.objects.filter(outbox_id=outbox_id).first()
        publication = _publish(outbox)
        outbox.processed_at = timezone.now()
        outbox.attempts += 1
        outbox.save(update_fields=["processed_at", "attempts"])
        _pause_for_tests()
    return publication


def _publish(outbox: Outbox) -> Publication:
    p = outbox.payload
    previous = None
    if p["supersedes"]:
        previous = Publication.objects.select_for_update().get(pk=p["supersedes"])
        # A correction applies to the newest version, even if another came first.
        while hasattr(previous, "superseded_by"):
            previous = previous.superseded_by
    series = (
        previous.series
        if previous
        else Series.objects.create(kind=outbox.kind, region=outbox.region)
    )
    now = timezone.now()
    days = p.get("period_working_days")
    publication = Publication(
        series=series,
        version=previous.version + 1 if previous else 1,
        supersedes=previous,
        correction_reason=p.get("reason", ""),
        kind=outbox.kind,
        region=outbox.region,
        title=p["title"],
        body=p["body"],
        columns=p["columns"],
        items=p["items"],
        data=p.get("data") or None,
        published_at=now,
        # A correction keeps the period it corrects; a new list starts its own.
        period_ends_at=add_working_days(now, days)
        if days
        else (previous.period_ends_at if previous else None),
        outbox=outbox,
    )
    publication.content_hash = content_hash(document_of(publication))
    publication.save()
    record_event(
        "publication.published",
        f"发布{publication.get_kind_display()}：{publication.title}（第 {publication.version} 版）",
        actor=outbox.actor,
        after={"publication": publication.pk, "hash": publication.content_hash},
    )
    return publication


def _pause_for_tests() -> None:
    """Lets the worker-kill test stop a worker inside the publishing transaction."""
    pause = os.environ.get("ANJU_TEST_PUBLISH_PAUSE")
    if pause:
        time.sleep(float(pause))


def pending_outbox_ids(older_than_seconds: int = 0) -> list[int]:
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    return list(
        Outbox.objects.filter(processed_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )


def file_objection(
    publication: Publication, *, item_key: str, name: str, contact: str, reason: str, ip: str | None
) -> Objection:
    """Anyone may object to an item while its publicity period runs."""
    if not publication.in_publicity:
        raise PublishError(gettext("公示期已结束，不能再提出异议。"))
    if item_key not in {row["_key"] for row in publication.items}:
        raise PublishError(gettext("公示名单中没有这一项。"))
    return Objection.objects.create(
        publication=publication,
        item_key=item_key,
        name=name.strip(),
        contact=contact.strip(),
        reason=reason.strip(),
        ip=ip,
    )


@transaction.atomic
def handle_objection(objection_id: int, *, sustained: bool, handling: str, actor) -> Objection:
    """Record the department's finding on an objection (once)."""
    if not handling.strip():
        raise PublishError("请填写处理情况。")
    objection = Objection.objects.select_for_update().get(pk=objection_id)
    if objection.status != Objection.Status.OPEN:
        raise PublishError("该异议已处理。")
    objection.status = Objection.Status.SUSTAINED if sustained else Objection.Status.DISMISSED
    objection.handling = handling.strip()
    objection.handled_by = actor
    objection.handled_at = timezone.now()
    objection.save()
    record_event(
        "objection.handled",
        f"异议处理：{objection.get_status_display()}（公示 {objection.publication_id}，"
        f"对象 {objection.item_key}）",
        actor=actor,
        reason=objection.handling,
        after={"objection": objection.pk, "status": objection.status},
    )
    return objection


VACANCY_COLUMNS = [
    {"key": "building", "label": "楼栋", "kind": "text"},
    {"key": "number", "label": "房号", "kind": "text"},
    {"key": "floor", "label": "楼层", "kind": "number"},
    {"key": "layout", "label": "户型", "kind": "text"},
    {"key": "area", "label": "面积（㎡）", "kind": "number"},
    {"key": "rent", "label": "月租金（元）", "kind": "number"},
    {"key": "lon", "label": "经度", "kind": "number"},
    {"key": "lat", "label": "纬度", "kind": "number"},
]


@transaction.atomic
def release_vacancies(estate, *, actor) -> Outbox:
    """房源发布: the estate's vacant units, published with their positions for the map."""
    from geo.models import Unit
    from geo.ordering import natural

    units = (
        Unit.objects.filter(building__estate=estate, status=Unit.Status.VACANT)
        .select_related("building")
        .order_by(*natural("building__number"), "floor", *natural("number"))
    )
    rows = []
    for u in units:
        point = u.building.position or estate.location
        rows.append(
            {
                "_key": str(u.pk),
                "building": u.building.number,
                "number": u.number,
                "floor": u.floor,
                "layout": u.layout,
                "area": float(u.area),
                "rent": float(u.monthly_rent),
                "lon": round(point.x, 6),
                "lat": round(point.y, 6),
            }
        )
    if not rows:
        raise PublishError("该项目目前没有空置房源，无需发布。")
    if not estate.published:
        raise PublishError("项目尚未公开，请先公开项目再发布房源。")
    releases = Outbox.objects.filter(kind=Kind.VACANCY_RELEASE, payload__subject__estate=estate.pk)
    if releases.filter(processed_at__isnull=True).exists():
        raise PublishError("该项目的房源发布正在处理中，请稍后再试。")
    # A new release replaces the estate's last one, so only one list of its vacancies is current.
    last = (
        Publication.objects.filter(outbox__in=releases, superseded_by__isnull=True)
        .order_by("-published_at")
        .first()
    )
    outbox = enqueue_publication(
        kind=Kind.VACANCY_RELEASE,
        region=estate.district,
        title=f"{estate.name}空置房源发布（{len(rows)} 套）",
        body=f"{estate.name}（{estate.address}）现有空置公租房 {len(rows)} 套，符合条件的轮候家庭"
        "可按轮候顺序参加配租。",
        columns=VACANCY_COLUMNS,
        rows=rows,
        actor=actor,
        subject={"estate": estate.pk},
        supersedes=last,
        reason="房源更新" if last else "",
    )
    record_event(
        "estate.vacancies_released",
        f"提交房源发布：{estate.name} {len(rows)} 套",
        actor=actor,
        estate_id=estate.pk,
        after={"outbox": outbox.pk, "units": len(rows)},
    )
    return outbox


@transaction.atomic
def save_page(page, attachment=None, *, actor):
    """Save a policy / guide / hotline page (and an uploaded attachment) with its archive event."""
    is_new = page.pk is None
    page.save()
    if attachment is not None:
        attachment.page = page
        attachment.save()
    record_event(
        "page.created" if is_new else "page.changed",
        f"{'新建' if is_new else '修改'}{page.get_section_display()}：{page.title}"
        + (f"（附件 {attachment.title}）" if attachment is not None else ""),
        actor=actor,
        after={"page": page.pk, "published": page.published},
    )
    return page
