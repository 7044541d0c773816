"""统计分析 summary tables: what the worker rebuilds every ten minutes (insights/tasks.py) for
the dashboards a live query cannot serve within 200 ms at province size (issue 16).

A rebuild is one set-based INSERT … SELECT per table after a DELETE, in one transaction, so a
reader sees the old rows or the new ones, never half; concurrent rebuilds queue on a table
lock that readers do not take. The time a rebuild started is what the page shows as
"数据截至"; rows committed after it wait for the next one.
"""

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from geo.models import Building, Unit
from housing.models import Application, ReviewStep
from insights.models import RentArrears, RentMonth, ReviewMonth, SummaryRefresh, VacancyEstate
from tenancy.models import Bill, Contract

REVIEW = "review"
RENT = "rent"
VACANCY = "vacancy"
LONG_VACANT_DAYS = 180


def _review_sql(started: datetime) -> tuple[str, list]:
    """Each decision's time at its step runs from the decision before it on the same case (the
    submission included), as insights.statistics.applications.review reads it live."""
    return (
        f"INSERT INTO {ReviewMonth._meta.db_table}"
        " (month, county_id, step, decided, with_deadline, late, rejected, timed, spent)"
        " SELECT (date_trunc('month', s.decided_at AT TIME ZONE %s))::date, a.county_id, s.step,"
        " count(*), count(s.deadline), count(*) FILTER (WHERE s.decided_at > s.deadline),"
        " count(*) FILTER (WHERE s.decision = %s),"
        " count(s.entered), coalesce(sum(s.decided_at - s.entered), interval '0')"
        " FROM (SELECT application_id, step, decision, decided_at, deadline,"
        " lag(decided_at) OVER (PARTITION BY application_id ORDER BY decided_at, id) AS entered"
        f" FROM {ReviewStep._meta.db_table}) s"
        f" JOIN {Application._meta.db_table} a ON a.id = s.application_id"
        " WHERE s.decision <> %s"
        " GROUP BY 1, 2, 3",
        [
            timezone.get_default_timezone_name(),
            ReviewStep.Decision.REJECT,
            ReviewStep.Decision.SUBMIT,
        ],
    )


def _rent_sql(started: datetime) -> tuple[str, list]:
    """Every bill under the estate its contract's unit lies in."""
    return (
        f"INSERT INTO {RentMonth._meta.db_table} (month, estate_id, bills, billed, paid)"
        " SELECT b.month, bu.estate_id, count(*), sum(b.amount), sum(b.paid)"
        f" FROM {Bill._meta.db_table} b"
        f" JOIN {Contract._meta.db_table} c ON c.id = b.contract_id"
        f" JOIN {Unit._meta.db_table} u ON u.id = c.unit_id"
        f" JOIN {Building._meta.db_table} bu ON bu.id = u.building_id"
        " GROUP BY b.month, bu.estate_id",
        [],
    )


def _arrears_sql(started: datetime) -> tuple[str, list]:
    """Bills past due on the day of the rebuild and not paid in full, through the (status,
    due_date) index."""
    return (
        f"INSERT INTO {RentArrears._meta.db_table} (estate_id, households, amount)"
        " SELECT bu.estate_id, count(DISTINCT b.contract_id), sum(b.amount - b.paid)"
        f" FROM {Bill._meta.db_table} b"
        f" JOIN {Contract._meta.db_table} c ON c.id = b.contract_id"
        f" JOIN {Unit._meta.db_table} u ON u.id = c.unit_id"
        f" JOIN {Building._meta.db_table} bu ON bu.id = u.building_id"
        " WHERE b.status = ANY(%s) AND b.due_date < %s"
        " GROUP BY bu.estate_id",
        [
            [s for s in Bill.Status.values if s != Bill.Status.PAID],
            timezone.localdate(started),
        ],
    )


def _vacancy_sql(started: datetime) -> tuple[str, list]:
    """The vacant units alone (the (status, building) index), per estate; vacant since their
    row last changed, as insights.statistics.stock reads it live."""
    return (
        f"INSERT INTO {VacancyEstate._meta.db_table} (estate_id, vacant, since_total, long)"
        " SELECT bu.estate_id, count(*), sum(extract(epoch FROM u.updated_at)),"
        " count(*) FILTER (WHERE u.updated_at < %s)"
        f" FROM {Unit._meta.db_table} u"
        f" JOIN {Building._meta.db_table} bu ON bu.id = u.building_id"
        " WHERE u.status = %s"
        " GROUP BY bu.estate_id",
        [started - timedelta(days=LONG_VACANT_DAYS), Unit.Status.VACANT],
    )


# Each summary: its tables, rebuilt together in one transaction (one statement each).
TABLES: dict[str, list[tuple[type, Callable[[datetime], tuple[str, list]]]]] = {
    REVIEW: [(ReviewMonth, _review_sql)],
    RENT: [(RentMonth, _rent_sql), (RentArrears, _arrears_sql)],
    VACANCY: [(VacancyEstate, _vacancy_sql)],
}


def refresh(names: Iterable[str] | None = None) -> list[SummaryRefresh]:
    """Rebuild the named summaries (all by default), each in its own transaction."""
    done = []
    for name in names or TABLES:
        tables = [connection.ops.quote_name(m._meta.db_table) for m, _build in TABLES[name]]
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")
                started, clock, rows = timezone.now(), time.perf_counter(), 0
                for table, (_model, build) in zip(tables, TABLES[name], strict=True):
                    sql, params = build(started)
                    cursor.execute(f"DELETE FROM {table}")
                    cursor.execute(sql, params)
                    rows += cursor.rowcount
            record, _created = SummaryRefresh.objects.update_or_create(
                name=name,
                defaults={
                    "refreshed_at": started,
                    "seconds": time.perf_counter() - clock,
                    "rows": rows,
                },
            )
        done.append(record)
    return done


def as_of(name: str) -> datetime | None:
    """When the summary was last rebuilt; None if never (the dashboard then counts live)."""
    return SummaryRefresh.objects.filter(name=name).values_list("refreshed_at", flat=True).first()
