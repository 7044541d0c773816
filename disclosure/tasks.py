"""Jobs on the PostgreSQL queue (procrastinate): publish what the outbox holds, and the
archive chain's head once a day."""

from procrastinate.contrib.django import app

from disclosure.archive_head import publish_head
from disclosure.services import pending_outbox_ids, process_outbox


@app.task(queue="publications", retry=5)
def publish_outbox(outbox_id: int) -> None:
    process_outbox(outbox_id)


@app.periodic(cron="* * * * *")
@app.task(queue="publications", queueing_lock="sweep-outbox")
def sweep_outbox(timestamp: int) -> None:
    """Catch rows whose job was lost (a worker killed mid-way): publish them now."""
    for outbox_id in pending_outbox_ids(older_than_seconds=30):
        process_outbox(outbox_id)


@app.periodic(cron="7 16 * * *")  # UTC: 00:07 in China, the head as the new day begins
@app.task(queue="publications", queueing_lock="publish-archive-head")
def publish_archive_head(timestamp: int) -> None:
    """Daily: seal pending archive events, then publish the chain's head as a public notice."""
    publish_head()
