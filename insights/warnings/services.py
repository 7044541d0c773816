"""Staff actions on a warning: acknowledge it (someone is on it) and resolve it (with a note).
Each is a compare-and-set in one transaction with its archive event, so two clerks pressing
the same button do one thing."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.services import record_event
from insights.models import Warning


class WarningError(ValueError):
    """The action does not apply (already acknowledged or resolved, or no note)."""


@transaction.atomic
def acknowledge(warning_id: int, *, actor) -> Warning:
    now = timezone.now()
    done = Warning.objects.filter(pk=warning_id, status=Warning.Status.OPEN).update(
        status=Warning.Status.ACKNOWLEDGED, acknowledged_by=actor, acknowledged_at=now
    )
    if not done:
        raise WarningError(_("该预警已被确认或已解除，无需再次确认。"))
    warning = Warning.objects.get(pk=warning_id)
    _event(warning, "warning.acknowledged", _("确认预警：%(s)s"), actor, "")
    return warning


@transaction.atomic
def resolve(warning_id: int, note: str, *, actor) -> Warning:
    note = (note or "").strip()
    if not note:
        raise WarningError(_("请填写处理说明后再解除预警。"))
    now = timezone.now()
    done = (
        Warning.objects.filter(pk=warning_id)
        .exclude(status=Warning.Status.RESOLVED)
        .update(
            status=Warning.Status.RESOLVED,
            resolved_by=actor,
            resolved_at=now,
            resolution=note[:2000],
            auto_resolved=False,
        )
    )
    if not done:
        raise WarningError(_("该预警已解除。"))
    warning = Warning.objects.get(pk=warning_id)
    _event(warning, "warning.resolved", _("处理预警：%(s)s"), actor, note[:2000])
    return warning


def _event(warning: Warning, action: str, text: str, actor, reason: str) -> None:
    record_event(
        action,
        text % {"s": warning.summary},
        actor=actor,
        estate_id=warning.estate_id,
        unit_id=warning.unit_id,
        household_id=warning.household_id,
        after={"warning": warning.pk, "rule": warning.rule, "status": warning.status},
        reason=reason,
    )
