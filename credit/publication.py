"""The public 失信名单: one list per city, a new version whenever what is in effect changes.

Persons appear masked as in every list (张*明, 340321********1234); organisations by full name
and 统一社会信用代码 (public registers already show them). Only records in effect are listed:
one that expired or was repaired leaves the next version, and stays in the archive.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from credit.models import ListState, Record, Subject
from disclosure.masking import mask_id_number, mask_name
from disclosure.models import Kind, Publication
from disclosure.services import enqueue_publication
from geo.models import Region

COLUMNS = [
    {"key": "kind", "label": "主体类别", "kind": "text"},
    {"key": "subject", "label": "名称", "kind": "text"},
    {"key": "number", "label": "身份证号 / 统一社会信用代码", "kind": "text"},
    {"key": "level", "label": "失信等级", "kind": "text"},
    {"key": "conduct", "label": "失信行为", "kind": "text"},
    {"key": "consequence", "label": "惩戒措施", "kind": "text"},
    {"key": "county", "label": "认定单位", "kind": "region"},
    {"key": "decided", "label": "认定日期", "kind": "date"},
    {"key": "until", "label": "影响期至", "kind": "date"},
]


def rows_for(city: Region, today) -> list[dict]:
    """What the public sees today, most severe first. Persons are masked here, before the
    outbox, so no clear name or number is ever stored for publication."""
    records = (
        Record.objects.filter(Record.in_effect_q(today), county__parent=city)
        .select_related("subject", "conduct", "county")
        .order_by("-level", "-decided_on", "pk")
    )
    order = {"severe": 0, "serious": 1, "minor": 2}
    rows = []
    for r in sorted(records, key=lambda r: (order[r.level], -r.decided_on.toordinal(), r.pk)):
        person = r.subject.kind == Subject.Kind.PERSON
        rows.append(
            {
                "_key": f"R{r.pk}",
                "kind": r.subject.get_kind_display(),
                "subject": mask_name(r.subject.name) if person else r.subject.name,
                "number": mask_id_number(r.subject.id_number) if person else r.subject.credit_code,
                "level": r.get_level_display(),
                "conduct": r.conduct.name,
                "consequence": r.conduct.consequence,
                "county": r.county.name,
                "decided": r.decided_on.isoformat(),
                "until": (r.effective_until - timedelta(days=1)).isoformat(),
            }
        )
    return rows


def publish_list(city: Region, state: ListState, *, now: datetime, actor, reason: str) -> bool:
    """A new version of the city's list (the caller holds the state's lock). Returns False
    while the previous version is still on its way; the periodic job publishes it then."""
    last = None
    if state.outbox_id:
        last = Publication.objects.filter(outbox_id=state.outbox_id).first()
        if last is None:
            return False
        while hasattr(last, "superseded_by"):
            last = last.superseded_by
    today = timezone.localtime(now).date()
    rows = rows_for(city, today)
    outbox = enqueue_publication(
        kind=Kind.DISHONESTY_LIST,
        region=city,
        title=f"{city.name}公共租赁住房失信名单（{today:%Y年%m月%d日}，{len(rows)} 条）",
        body="经认定、在影响期内的公共租赁住房领域失信记录。失信主体可在纠正失信行为后申请信用修复，"
        "修复后不再公示。对名单有异议的，可向认定单位提出。",
        columns=COLUMNS,
        rows=rows,
        supersedes=last,
        reason=reason if last else "",
        actor=actor,
        subject={"dishonesty": city.pk},
    )
    state.outbox_id, state.published_at, state.stale = outbox.pk, now, False
    state.save(update_fields=["outbox_id", "published_at", "stale"])
    return True


def publish_changed(now: datetime | None = None) -> int:
    """Every few minutes: lists changed while their previous version was still on its way."""
    now = now or timezone.now()
    done = 0
    for pk in ListState.objects.filter(stale=True).values_list("pk", flat=True):
        with transaction.atomic():
            state = ListState.objects.select_for_update().select_related("city").get(pk=pk)
            if state.stale:
                done += publish_list(state.city, state, now=now, actor=None, reason="失信名单更新")
    return done
