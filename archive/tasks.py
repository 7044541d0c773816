"""Jobs on the PostgreSQL queue: keep the rate-limit counters small, seal new events."""

from procrastinate.contrib.django import app

from archive.chain import seal_pending
from archive.ratelimit import purge_expired


@app.periodic(cron="17 * * * *")
@app.task(queue="archive", queueing_lock="purge-rate-counters")
def purge_rate_counters(timestamp: int) -> None:
    """Hourly: drop counters whose window has closed (a new use simply starts a new row)."""
    purge_expired()


@app.periodic(cron="* * * * *")
@app.task(queue="archive", queueing_lock="seal-archive")
def seal_archive(timestamp: int) -> None:
    """Every minute: add the events committed since the last run to the hash chain."""
    seal_pending()
