"""Jobs on the PostgreSQL queue: write a requested batch ZIP; delete the expired ones hourly.

The work itself lives in insights/batches.py; these only say when it runs and on which queue.
"""

from procrastinate.contrib.django import app

from insights import batches


@app.task(queue="insights")
def build_batch_zip(batch_id: int) -> None:
    """One batch download's ZIP (a repeated job finds it claimed and does nothing)."""
    batches.build(batch_id)


@app.periodic(cron="23 * * * *")
@app.task(queue="insights", queueing_lock="expire-batch-downloads")
def expire_batch_downloads(timestamp: int) -> None:
    """Hourly: ZIPs past their expiry deleted (status → expired)."""
    batches.expire_batches()


@app.periodic(cron="41 * * * *")
@app.task(queue="insights", queueing_lock="refresh-warnings")
def refresh_warnings(timestamp: int) -> None:
    """Hourly: raise new warnings, touch the live ones, clear those whose condition ended."""
    from insights.warnings.refresh import refresh

    refresh()


@app.periodic(cron="0 7 * * *")
@app.task(queue="insights", queueing_lock="warning-digest")
def send_warning_digest(timestamp: int) -> None:
    """Daily at 07:00: each staff member's 站内信 of the live warnings in their area."""
    from insights.warnings.digest import send_digest

    send_digest()


@app.periodic(cron="*/10 * * * *")
@app.task(queue="insights", queueing_lock="refresh-statistics-summaries")
def refresh_statistics_summaries(timestamp: int) -> None:
    """Every ten minutes: the 统计分析 summary tables rebuilt (the dashboards' "数据截至")."""
    from insights.summaries import refresh

    refresh()
