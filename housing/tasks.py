"""Jobs on the PostgreSQL queue: approvals take effect when publicity periods end."""

from procrastinate.contrib.django import app

from housing.services import finish_publicity


@app.periodic(cron="*/10 * * * *")
@app.task(queue="housing", queueing_lock="finish-publicity")
def finish_ended_publicity(timestamp: int) -> None:
    """Every ten minutes: approve cases whose period ended without a sustained objection."""
    finish_publicity()
