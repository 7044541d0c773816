"""Jobs on the PostgreSQL queue (procrastinate): publish what the outbox holds."""

from procrastinate.contrib.django import app

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
