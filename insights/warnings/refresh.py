"""The hourly refresh: raise a warning for each new case, touch the ones still found, and
resolve automatically (with an archive event) those whose condition has cleared. Running it
twice changes nothing the second time."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.models import Event
from archive.services import record_events
from insights.models import Warning
from insights.warnings.finders import FINDERS, Finding
from insights.warnings.rules import load_rules


@dataclass
class Outcome:
    rule: str
    found: int = 0
    raised: int = 0
    cleared: int = 0


def refresh(
    now: datetime | None = None, progress: Callable[[Outcome], None] | None = None
) -> list[Outcome]:
    """Every rule in turn, each in its own transaction; a switched-off rule clears its own."""
    now = now or timezone.now()
    outcomes = []
    for code, rule in load_rules().items():
        findings = FINDERS[code](rule.thresholds, now) if rule.enabled else []
        outcome = _apply(code, findings, now)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return outcomes


def _apply(code: str, findings: list[Finding], now: datetime) -> Outcome:
    found = {(f.kind, f.id): f for f in findings}
    with transaction.atomic():
        live = {
            (w.subject_kind, w.subject_id): w
            for w in Warning.objects.select_for_update()
            .live()
            .filter(rule=code)
            .only(
                "pk",
                "rule",
                "subject_kind",
                "subject_id",
                "summary",
                "county_id",
                "estate_id",
                "unit_id",
                "household_id",
            )
        }
        new = [
            Warning(
                rule=code,
                subject_kind=f.kind,
                subject_id=f.id,
                anchor_id=f.anchor_id,
                unit_id=f.unit_id,
                household_id=f.household_id,
                summary=f.summary[:300],
                county_id=f.county_id,
                estate_id=f.estate_id,
                first_seen_at=now,
                last_seen_at=now,
            )
            for key, f in found.items()
            if key not in live
        ]
        Warning.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
        kept = [w for key, w in live.items() if key in found]
        Warning.objects.filter(pk__in=[w.pk for w in kept]).update(last_seen_at=now)
        changed = []
        for w in kept:
            f = found[(w.subject_kind, w.subject_id)]
            if w.summary != f.summary[:300] or (w.county_id, w.estate_id) != (
                f.county_id,
                f.estate_id,
            ):
                w.summary, w.county_id, w.estate_id = f.summary[:300], f.county_id, f.estate_id
                changed.append(w)
        Warning.objects.bulk_update(changed, ["summary", "county", "estate"], batch_size=1000)
        gone = [w for key, w in live.items() if key not in found]
        _clear(gone, now)
    return Outcome(code, found=len(found), raised=len(new), cleared=len(gone))


def _clear(warnings: list[Warning], now: datetime) -> None:
    if not warnings:
        return
    note = _("预警条件已消除，系统自动解除。")
    Warning.objects.filter(pk__in=[w.pk for w in warnings]).update(
        status=Warning.Status.RESOLVED,
        resolved_at=now,
        resolution=note,
        auto_resolved=True,
    )
    record_events(
        Event(
            action="warning.cleared",
            summary=(_("预警自动解除：%(summary)s") % {"summary": w.summary})[:300],
            estate_id=w.estate_id,
            unit_id=w.unit_id,
            household_id=w.household_id,
            after={"warning": w.pk, "rule": w.rule},
            reason=note,
        )
        for w in warnings
    )
