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


@app.periodic(cron="30 18 * * *")  # UTC: 02:30 in China, when the data platform is quiet
@app.task(queue="tenancy", queueing_lock="recheck-tenants")
def recheck_tenants(timestamp: int) -> None:
    """Daily 动态核查 of every tenant household (an interrupted run resumes where it stopped)."""
    from contextlib import suppress

    from housing.errors import NotAllowed
    from tenancy.services import recheck

    with suppress(NotAllowed):  # a run started by hand is still going: it covers today
        recheck.run_recheck(actor=None)


# 退出 and 考核评价 (issue 13)
@app.periodic(cron="20 16 * * *")  # UTC: 00:20 in China, after the day's bills
@app.task(queue="tenancy", queueing_lock="open-expired-exits")
def open_expired_exits(timestamp: int) -> None:
    """Daily: an exit for each lease past its end with no renewal (one open exit per lease)."""
    from tenancy.services import exits

    exits.open_expired()


@app.periodic(cron="0 18 1 1,4,7,10 *")  # UTC: 02:00 in China on a quarter's first day
@app.task(queue="tenancy", queueing_lock="score-operators")
def score_operators(timestamp: int) -> None:
    """Quarterly: the last quarter's operator scores (recomputed until they are published)."""
    from contextlib import suppress

    from django.utils import timezone

    from housing.errors import NotAllowed
    from tenancy.services import evaluation

    last = evaluation.Quarter.of(timezone.localdate()).previous()
    with suppress(NotAllowed):  # already published: kept as it was
        evaluation.score_operators(last.name, actor=None)


# 年审 and 续租 (issue 13)
@app.periodic(cron="5 16 * * *")  # UTC: 00:05 in China, before the day's bills and exits
@app.task(queue="tenancy", queueing_lock="activate-renewals")
def activate_renewals(timestamp: int) -> None:
    """Daily: signed renewals whose first day has come take over from the lease they renew."""
    from tenancy.services import renewals

    renewals.activate_renewals()


@app.periodic(cron="30 1 * * *")  # UTC: 09:30 in China, when a text message is welcome
@app.task(queue="tenancy", queueing_lock="annual-reviews-and-renewals")
def review_calendar(timestamp: int) -> None:
    """Daily: the year's reviews opened, reminded and flagged when missed; leases ending within
    the notice period reminded to renew (each once: idempotent)."""
    from tenancy.services import annual_reviews, renewals

    annual_reviews.flag_missed()
    annual_reviews.open_due_reviews()
    annual_reviews.remind_reviews()
    renewals.remind_renewals()


# 维修 (issue 13)
@app.periodic(cron="40 1 * * *")  # UTC: 09:40 in China, when a text message is welcome
@app.task(queue="tenancy", queueing_lock="confirm-unanswered-repairs")
def confirm_unanswered_repairs(timestamp: int) -> None:
    """Daily: repairs the tenant left unanswered a week after completion count as confirmed
    (each once: only repairs still awaiting the tenant are touched)."""
    from tenancy.services import repairs

    repairs.confirm_unanswered()
