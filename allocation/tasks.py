"""Jobs on the PostgreSQL queue: approved households enter the waitlist, offers lapse,
suspensions end, and changed waitlists are republished once each working day."""

from procrastinate.contrib.django import app

from allocation.services.offers import expire_offers
from allocation.services.waitlist import (
    enrol_waiting_households,
    lift_suspensions,
    publish_changed_waitlists,
)


@app.periodic(cron="* * * * *")
@app.task(queue="allocation", queueing_lock="enrol-households")
def enrol_households(timestamp: int) -> None:
    """Every minute: households approved since the last run join their county's waitlist."""
    enrol_waiting_households()


@app.periodic(cron="*/10 * * * *")
@app.task(queue="allocation", queueing_lock="expire-offers")
def lapse_offers(timestamp: int) -> None:
    """Every ten minutes: offers past their deadline expire and count as refusals."""
    expire_offers()
    lift_suspensions()


@app.periodic(cron="0 9 * * *")  # UTC: 17:00 in China; the service skips non-working days
@app.task(queue="allocation", queueing_lock="publish-waitlists")
def publish_waitlists(timestamp: int) -> None:
    """Each working afternoon: one new version of every county's waitlist that changed."""
    publish_changed_waitlists()
