"""Benchmark of monthly billing (make bench): issue one month's bills for 100,000 leases.

The leases live in a database of their own (<name>_bench, created once and kept, holding a
small demo city), made set-based in one transaction: 100,000 units, approved households,
accepted offers and active leases, each an INSERT … SELECT over generate_series that copies one
demo row and varies its keys. issue_bills runs twice on them (the second run must add nothing),
then everything is rolled back, so the database keeps only the demo for the next run.

BENCH_CONTRACTS sets the number of leases. The figure goes to the issue notes; it is never
asserted in tests.
"""

import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Creating the bench database takes the owner's role (the app's cannot create databases).
if os.environ.get("DATABASE_OWNER_URL"):
    os.environ["DATABASE_URL"] = os.environ["DATABASE_OWNER_URL"]

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from allocation.models import Offer  # noqa: E402
from geo.models import Unit  # noqa: E402
from housing.models import Application, Household  # noqa: E402
from portal.management.commands.load_demo import _demo_clerk  # noqa: E402
from tenancy.models import Bill, Contract  # noqa: E402
from tenancy.services import billing  # noqa: E402

CONTRACTS = int(os.environ.get("BENCH_CONTRACTS", "100000"))
MONTH = date(2030, 1, 1)  # beyond every demo lease's bills
PREFIX = "BENCH"


class Rollback(Exception):
    """Raised at the end of the benchmark's transaction: nothing it made is kept."""


def bench_database() -> str:
    """Create (once) and select the bench database, with the demo city in it."""
    name = f"{settings.DATABASES['default']['NAME']}_bench"
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
    if not Contract.objects.filter(number__startswith="CL").exists():
        print(f"loading a small demo city into {name} (once)…", flush=True)
        call_command("load_demo", contracts=20, seed=1, verbosity=0)
    return name


def copy_rows(model, template_pk: int, values: dict[str, str], joins: str = "") -> int:
    """INSERT … SELECT: `CONTRACTS` copies of one row of `model`, with the columns in `values`
    computed from g (1…N) and the joined rows; every other column copied as it is."""
    table = model._meta.db_table
    pk = model._meta.pk.column
    columns = [
        f.column for f in model._meta.concrete_fields if not (f.primary_key and f.column == "id")
    ]
    select = [values.get(c, f"t.{c}") for c in columns]
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(select)} FROM {table} t "
        f"CROSS JOIN generate_series(1, %(n)s) g {joins} WHERE t.{pk} = %(template)s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {"n": CONTRACTS, "template": template_pk})
        return cursor.rowcount


def make_leases(lease: Contract) -> float:
    """100,000 units, households, offers and active leases like `lease`; returns seconds."""
    started = time.perf_counter()
    key = "lpad(g::text, 7, '0')"
    unit = lease.unit
    copy_rows(Unit, unit.pk, {"number": f"'B' || {key}", "status": "'occupied'"})
    copy_rows(
        Application,
        lease.household_id,
        {
            "number": f"'{PREFIX}' || {key}",
            "public_key": "upper(substr(md5('a' || g), 1, 8))",
            "id_index": "md5('bench-person-' || g)",
        },
    )
    copy_rows(
        Household,
        lease.household_id,
        {
            "application_id": "a.id",
            "public_key": "a.public_key",
            "head_id_index": "a.id_index",
        },
        joins=f"JOIN housing_application a ON a.number = '{PREFIX}' || {key}",
    )
    copy_rows(
        Offer,
        lease.offer_id,
        {"household_id": "a.id", "unit_id": "u.id", "status": "'accepted'"},
        joins=(
            f"JOIN housing_application a ON a.number = '{PREFIX}' || {key} "
            f"JOIN geo_unit u ON u.building_id = {unit.building_id} AND u.number = 'B' || {key}"
        ),
    )
    copy_rows(
        Contract,
        lease.pk,
        {
            "number": f"'{PREFIX}-' || {key}",
            "offer_id": "o.id",
            "household_id": "o.household_id",
            "unit_id": "o.unit_id",
            "status": "'active'",
            "start_date": "DATE '2029-01-01'",
            "end_date": "DATE '2031-12-31'",
            "check_in_date": "DATE '2029-01-01'",
            "ended_on": "NULL",
        },
        joins=(
            f"JOIN housing_application a ON a.number = '{PREFIX}' || {key} "
            "JOIN allocation_offer o ON o.household_id = a.id AND o.status = 'accepted'"
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would give a real table
    return time.perf_counter() - started


def main() -> None:
    name = bench_database()
    # A lease that came from an offer (存量 CL leases have none): make_leases copies the offer.
    lease = (
        Contract.objects.filter(offer__isnull=False).select_related("unit").order_by("pk").first()
    )
    actor = _demo_clerk()
    try:
        with transaction.atomic():
            made = make_leases(lease)
            leases = Contract.objects.filter(
                status="active", start_date__lte=MONTH, end_date__gte=MONTH
            ).count()
            started = time.perf_counter()
            first = billing.issue_bills(MONTH, actor=actor)
            first_seconds = time.perf_counter() - started
            started = time.perf_counter()
            again = billing.issue_bills(MONTH, actor=actor)
            again_seconds = time.perf_counter() - started
            per_lease = Bill.objects.filter(month=MONTH).count()
            raise Rollback
    except Rollback:
        pass
    print(
        f"\nmonthly billing on {name}: {leases:,} active leases "
        f"({CONTRACTS:,} made set-based in {made:.1f} s)"
    )
    print("| run | new bills | seconds |")
    print("| --- | --- | --- |")
    print(f"| issue_bills({MONTH:%Y-%m}) | {first:,} | {first_seconds:.2f} |")
    print(f"| rerun (idempotent) | {again:,} | {again_seconds:.2f} |")
    assert first == per_lease == leases >= CONTRACTS and again == 0, (first, leases, again)


if __name__ == "__main__":
    main()
