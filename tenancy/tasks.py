"""Jobs on the PostgreSQL queue: the month's rent bills, overdue reminders, arrears warnings.

Each runs daily and is idempotent (a bill per contract and month, a reminder per bill and step,
one open warning per contract), so a missed or repeated run changes nothing but the timing.
The scheduled job is the actor of what it records (actor None: "系统").
"""

from procrastinate.contrib.django import app

from tenancy.services import billing


@app.periodic(cron="10 16 * * *")  # UTC: 00:10 in China, the first minutes of the day
@app.task(queue="tenancy", queueing_lock="issue-bills")
def issue_bills(timestamp: int) -> None:
    """Daily: the current month's missing bills (and last month's, for late move-ins)."""
    billing.issue_due_bills()


@app.periodic(cron="0 1 * * *")  # UTC: 09:00 in China, when a text message is welcome
@app.task(queue="tenancy", queueing_lock="chase-arrears")
def chase_arrears(timestamp: int) -> None:
    """Daily: reminders at the county's days overdue, then the arrears warnings."""
    billing.send_reminders()
    billing.raise_arrears_warnings()
