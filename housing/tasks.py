"""Jobs on the PostgreSQL queue: approvals take effect when publicity periods end."""

import logging

from django.utils import timezone
from procrastinate.contrib.django import app

from disclosure.calendar import is_working_day
from exchange.case_push import PushFailed
from geo.models import Region
from housing import case_push
from housing.models import Application
from housing.services import NotAllowed, finish_publicity, start_publicity

logger = logging.getLogger(__name__)


@app.periodic(cron="*/10 * * * *")
@app.task(queue="housing", queueing_lock="finish-publicity")
def finish_ended_publicity(timestamp: int) -> None:
    """Every ten minutes: approve cases whose period ended without a sustained objection."""
    finish_publicity()


@app.task(queue="housing")
def push_case(application_id: int) -> None:
    """办件状态推送 of one case, queued on commit; the sweep retries what fails."""
    try:
        case_push.process_case(application_id)
    except PushFailed as exc:
        logger.warning("case pushes of application %s wait: %s", application_id, exc)


@app.periodic(cron="* * * * *")
@app.task(queue="housing", queueing_lock="sweep-case-pushes")
def sweep_case_pushes(timestamp: int) -> None:
    """Every minute: pushes whose job was lost or whose platform was down, when due."""
    case_push.sweep()


@app.periodic(cron="0 1 * * *")  # UTC: 09:00 in China, on working days (调休 Saturdays too)
@app.task(queue="housing", queueing_lock="start-publicity")
def publish_waiting_reviews(timestamp: int) -> None:
    """Each working morning: everything that passed 复审 is published, one notice per county."""
    start_waiting_publicity()


def start_waiting_publicity() -> int:
    """One notice per county with cases waiting; only on working days (a make-up Saturday is
    one); one county's trouble does not stop the others."""
    if not is_working_day(timezone.localdate()):
        return 0
    counties = set(
        Application.objects.filter(stage="publicity", review_outbox__isnull=True)
        .order_by()
        .values_list("county", flat=True)
    )
    started = 0
    for county in Region.objects.filter(pk__in=counties):
        try:
            start_publicity(county, actor=None)
            started += 1
        except NotAllowed:
            logger.exception("publicity for %s not started", county)
    return started
