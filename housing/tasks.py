"""Jobs on the PostgreSQL queue: approvals take effect when publicity periods end."""

from procrastinate.contrib.django import app

from geo.models import Region
from housing.models import Application
from housing.services import finish_publicity, start_publicity


@app.periodic(cron="*/10 * * * *")
@app.task(queue="housing", queueing_lock="finish-publicity")
def finish_ended_publicity(timestamp: int) -> None:
    """Every ten minutes: approve cases whose period ended without a sustained objection."""
    finish_publicity()


@app.periodic(cron="0 9 * * 1-5")
@app.task(queue="housing", queueing_lock="start-publicity")
def publish_waiting_reviews(timestamp: int) -> None:
    """Each working morning: everything that passed 复审 is published, one notice per county."""
    start_waiting_publicity()


def start_waiting_publicity() -> int:
    counties = list(
        Application.objects.filter(stage="publicity", review_outbox__isnull=True)
        .values_list("county", flat=True)
        .distinct()
    )
    for county in Region.objects.filter(pk__in=counties):
        start_publicity(county, actor=None)
    return len(counties)
