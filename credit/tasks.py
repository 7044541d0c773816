"""Jobs on the PostgreSQL queue: the 失信名单 kept current.

A list that changed while its previous version was still being published is published as soon
as that one is out; a record whose period ended leaves the list the next morning.
"""

from procrastinate.contrib.django import app

from credit import publication, services


@app.periodic(cron="*/5 * * * *")
@app.task(queue="credit", queueing_lock="credit-stale-lists")
def publish_stale_lists(timestamp: int) -> None:
    publication.publish_changed()


@app.periodic(cron="5 16 * * *")  # UTC: 00:05 in China, the first minutes of the day
@app.task(queue="credit", queueing_lock="credit-expired")
def publish_expired(timestamp: int) -> None:
    services.publish_expired()
