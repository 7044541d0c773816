"""Reading repairs: what is overdue, a repair's timeline from the archive, per-operator figures.

The overdue condition is one Q used by the queue filter, its flag and the staff home count, so
the three always agree.
"""

from datetime import datetime

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from archive.models import Event
from tenancy.models import Repair


def overdue_q(now: datetime) -> Q:
    """Not yet assigned after the response deadline, or not yet done after the completion one."""
    return Q(status=Repair.Status.REPORTED, respond_by__lt=now) | Q(
        status__in=Repair.OPEN, complete_by__lt=now
    )


def is_overdue(repair: Repair, now: datetime) -> bool:
    return (repair.status == Repair.Status.REPORTED and repair.respond_by < now) or (
        repair.is_open and repair.complete_by < now
    )


def timeline(repair: Repair) -> QuerySet[Event]:
    """The repair's archive events, oldest first (the unit's 一房一档 holds the same rows)."""
    return (
        Event.objects.filter(unit_id=repair.unit_id, after__repair=repair.pk)
        .select_related("actor")
        .order_by("at", "id")
    )


def operator_figures(start: datetime, end: datetime) -> QuerySet:
    """Per operator, repairs reported in [start, end): how many, how many answered and done in
    time, the mean hours to assign and to close (for the operator evaluation)."""

    def hours(field: str):
        return Avg(
            ExpressionWrapper(F(field) - F("reported_at"), output_field=DurationField()),
            filter=Q(**{f"{field}__isnull": False}),
        )

    return (
        Repair.objects.filter(reported_at__gte=start, reported_at__lt=end, operator__isnull=False)
        .values("operator_id")
        .annotate(
            reported=Count("pk"),
            responded_in_time=Count("pk", filter=Q(assigned_at__lte=F("respond_by"))),
            completed_in_time=Count("pk", filter=Q(closed_at__lte=F("complete_by"))),
            closed=Count("pk", filter=Q(closed_at__isnull=False)),
            reopened=Count("pk", filter=Q(reopen_count__gt=0)),
            mean_to_assign=hours("assigned_at"),
            mean_to_close=hours("closed_at"),
        )
        .order_by("operator_id")
    )
