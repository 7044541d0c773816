"""Benchmark of the 统计分析 dashboards (make bench): each one at province size, p50/p95 per
dashboard for a city and for a county user, against the 200 ms target of issue 16.

The data live in the bench database (<name>_bench, created once and kept with a small demo
city), made set-based in one transaction and rolled back at the end, with the generators of
bench/billing.py (leases: units, applications, households, offers, contracts) and
bench/standard_export.py (units): BENCH_UNITS units in all (default 1,000,000, spread over the
demo estates, about one in twelve vacant) and BENCH_HOUSEHOLDS households (default 100,000:
60 % with a lease, 40 % on the waitlist), plus 30 % more applications still in review or
refused, the review steps of every case, BENCH_BILL_MONTHS months of bills per lease (default
24), one repair per lease, re-check hits for 1 % of tenants and credit records for 0.5 % of
households. The summary tables the worker keeps (insights/summaries.py) are then rebuilt once,
timed, as the ten-minute job does. Each dashboard is then requested through Django's test
Client BENCH_ROUNDS times (default 30) per role. BENCH_ONLY (comma-separated slugs) narrows
the dashboards; BENCH_EXPLAIN=1 prints each request's slowest statements with EXPLAIN
ANALYZE; BENCH_KEEP=1 commits the rows so that tuning runs reuse them (drop the bench
database afterwards). The figures go to the issue
notes; they are never asserted in tests.
"""

import math
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import billing  # noqa: E402  (sets up Django on the bench settings)
import standard_export  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from allocation.models import WaitlistEntry  # noqa: E402
from backoffice.models import StaffProfile  # noqa: E402
from credit.models import Proposal, Record, Subject  # noqa: E402
from geo.models import Estate, Region, Unit  # noqa: E402
from housing.models import DEFAULT_CHAIN, Application, EligibilityRule, Household, ReviewStep  # noqa: E402
from insights import summaries  # noqa: E402
from insights.statistics import DASHBOARDS  # noqa: E402
from tenancy.models import Bill, Contract, RecheckHit, Repair, RepairCategory  # noqa: E402

UNITS = int(os.environ.get("BENCH_UNITS", "1000000").split(",")[-1])
HOUSEHOLDS = int(os.environ.get("BENCH_HOUSEHOLDS", "100000"))
BILL_MONTHS = int(os.environ.get("BENCH_BILL_MONTHS", "24"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
ONLY = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
EXPLAIN = os.environ.get("BENCH_EXPLAIN") == "1"
KEEP = os.environ.get("BENCH_KEEP") == "1"
TARGET_MS = 200
LEASES = HOUSEHOLDS * 6 // 10
WAITING = HOUSEHOLDS - LEASES
IN_REVIEW = HOUSEHOLDS * 3 // 10
KEY = "lpad(g::text, 7, '0')"
CHAIN = [s["step"] for s in DEFAULT_CHAIN]


def copies(n: int, model, template_pk: int, values: dict[str, str], joins: str = "") -> int:
    """bench/billing.py's INSERT … SELECT, for n copies instead of its lease count."""
    saved, billing.CONTRACTS = billing.CONTRACTS, n
    values = {k: v.replace("%", "%%") for k, v in values.items()}  # the SQL has parameters
    try:
        return billing.copy_rows(model, template_pk, values, joins.replace("%", "%%"))
    finally:
        billing.CONTRACTS = saved


def pick(values: list, expression: str = "g") -> str:
    """One of `values` by g, as an SQL expression (round robin)."""
    items = ", ".join(str(v) if isinstance(v, int) else f"'{v}'" for v in values)
    return f"(ARRAY[{items}])[1 + {expression} % {len(values)}]"


def add_units(count: int) -> None:
    """`count` units spread over the demo estates, one in twelve copied from a vacant unit."""
    templates = []
    for estate in Estate.objects.order_by("pk"):
        units = Unit.objects.filter(building__estate=estate).order_by("pk")
        occupied = units.exclude(status=Unit.Status.VACANT).first()
        vacant = units.filter(status=Unit.Status.VACANT).first() or occupied
        if occupied is not None:
            templates.append((occupied, 11))
            templates.append((vacant, 1))
    weight = sum(w for _t, w in templates)
    made = 0
    for i, (template, w) in enumerate(templates):
        stop = count if i == len(templates) - 1 else made + count * w // weight
        if stop > made:
            standard_export.add_units(template, made, stop)
        made = stop


def step_rows(prefix: str, n: int, template: ReviewStep, when: str = "") -> None:
    """The review chain of the applications numbered prefix+key: the submission, then one
    decision per step; `when(i)` (SQL on g) limits which cases reached step i."""
    a = f"JOIN housing_application a ON a.number = '{prefix}' || {KEY}"
    copies(
        n,
        ReviewStep,
        template.pk,
        {
            "application_id": "a.id",
            "step": "'accept'",
            "decision": "'submit'",
            "decided_at": "a.submitted_at",
            "deadline": "NULL",
            "actor_id": "NULL",
        },
        joins=a,
    )
    for i, step in enumerate(CHAIN, start=1):
        last = i == len(CHAIN)
        if prefix == "BENCHR":  # 0–4: open at CHAIN[g % 10]; 5–9: refused at CHAIN[1 + g % 3]
            condition = (
                f" AND ((g % 10 < 5 AND g % 10 >= {i}) OR (g % 10 >= 5 AND 1 + g % 3 >= {i - 1}))"
            )
            decision = (
                f"CASE WHEN g % 10 >= 5 AND 1 + g % 3 = {i - 1} THEN 'reject' ELSE 'pass' END"
            )
        else:
            condition, decision = "", "'approve'" if last else "'pass'"
        copies(
            n,
            ReviewStep,
            template.pk,
            {
                "application_id": "a.id",
                "step": f"'{step}'",
                "decision": decision,
                "decided_at": f"a.submitted_at + ({i * 6} + g % {i + 6}) * interval '1 day'",
                "deadline": "NULL" if last else f"a.submitted_at + {i * 6 + 4} * interval '1 day'",
                "actor_id": "NULL",
            },
            joins=a + condition,
        )


def make_cases(lease: Contract, counties: list[int]) -> None:
    """Applications, households on the waitlist and cases in review, with their steps."""
    with connection.cursor() as cursor:  # the leases' cases: submitted over four years
        cursor.execute(
            "UPDATE housing_application SET"
            " submitted_at = now() - (60 + substr(number, 6)::int % 1400) * interval '1 day',"
            " decided_at = now() - (20 + substr(number, 6)::int % 1400) * interval '1 day'"
            f" WHERE number LIKE '{billing.PREFIX}0%'"
        )
    waiting = WaitlistEntry.objects.filter(status="waiting").order_by("pk").first()
    case = waiting.household.application
    copies(
        WAITING,
        Application,
        case.pk,
        {
            "number": f"'BENCHW' || {KEY}",
            "public_key": "'W' || lpad(to_hex(g), 7, '0')",
            "id_index": "md5('bench-waiting-' || g)",
            "county_id": pick(counties),
            "stage": "'approved'",
            "submitted_at": "now() - (60 + g % 1400) * interval '1 day'",
            "decided_at": "now() - (20 + g % 1400) * interval '1 day'",
        },
    )
    joined = f"JOIN housing_application a ON a.number = 'BENCHW' || {KEY}"
    copies(
        WAITING,
        Household,
        case.pk,
        {
            "application_id": "a.id",
            "public_key": "a.public_key",
            "head_id_index": "a.id_index",
            "county_id": "a.county_id",
            "status": "'waiting'",
            "approved_at": "a.decided_at",
        },
        joins=joined,
    )
    copies(
        WAITING,
        WaitlistEntry,
        waiting.pk,
        {
            "household_id": "a.id",
            "county_id": "a.county_id",
            "queued_at": "a.decided_at",
            "status": "CASE WHEN g % 10 = 0 THEN 'removed' ELSE 'waiting' END",
            "priority_rank": "g % 3",
        },
        joins=joined,
    )
    stages = ", ".join(f"'{s}'" for s in CHAIN)
    copies(
        IN_REVIEW,
        Application,
        case.pk,
        {
            "number": f"'BENCHR' || {KEY}",
            "public_key": "'R' || lpad(to_hex(g), 7, '0')",
            "id_index": "md5('bench-review-' || g)",
            "county_id": pick(counties),
            "stage": f"CASE WHEN g % 10 < 5 THEN (ARRAY[{stages}])[1 + g % 10] ELSE 'rejected' END",
            "returned": "false",
            "stage_deadline": "CASE WHEN g % 10 < 5 THEN now() + (g % 20 - 5) * interval '1 day'"
            " END",
            "rejection_reasons": "CASE WHEN g % 10 >= 5 THEN "
            + pick(["家庭人均月收入超过标准", "人均住房面积超过标准", "名下有机动车", "材料不全"])
            + " ELSE '' END",
            "submitted_at": "now() - (5 + CASE WHEN g % 10 < 5 THEN g % 60 ELSE g % 1400 END)"
            " * interval '1 day'",
            "decided_at": "CASE WHEN g % 10 >= 5 THEN now() - (g % 1400) * interval '1 day' END",
        },
    )
    template = ReviewStep.objects.order_by("pk").first()
    step_rows(billing.PREFIX, LEASES, template)
    step_rows("BENCHW", WAITING, template)
    step_rows("BENCHR", IN_REVIEW, template)


def make_tenancy(lease: Contract, counties: list[int]) -> None:
    """Bills for BILL_MONTHS months, a repair per lease, re-check hits and credit records."""
    contract = f"JOIN tenancy_contract c ON c.number = '{billing.PREFIX}-' || {KEY}"
    bill = Bill.objects.order_by("pk").first()
    month = timezone.localdate().replace(day=1)
    for i in range(BILL_MONTHS):
        due = month + timedelta(days=14)
        unpaid = f"(g % 50 = 0 OR (g + {i}) % 40 = 0)" if i < 6 else "g % 50 = 0"
        copies(
            LEASES,
            Bill,
            bill.pk,
            {
                "contract_id": "c.id",
                "month": f"DATE '{month}'",
                "reference": f"'{billing.PREFIX}-' || {KEY} || '-{month:%Y%m}'",
                "due_date": f"DATE '{due}'",
                "paid": f"CASE WHEN {unpaid} THEN 0 ELSE t.amount END",
                "status": f"CASE WHEN {unpaid} THEN 'unpaid' ELSE 'paid' END",
            },
            joins=contract,
        )
        month = (month - timedelta(days=1)).replace(day=1)
    repair = Repair.objects.exclude(closed_at=None).order_by("pk").first()
    categories = list(RepairCategory.objects.values_list("pk", flat=True))
    reported = "(now() - (g % 730) * interval '1 day' - (g % 24) * interval '1 hour')"
    copies(
        LEASES,
        Repair,
        repair.pk,
        {
            "number": f"'BR' || {KEY}",
            "unit_id": "c.unit_id",
            "estate_id": str(lease.unit.building.estate_id),
            "contract_id": "c.id",
            "household_id": "c.household_id",
            "category_id": pick(categories),
            "status": "CASE WHEN g % 20 = 0 THEN 'reported' WHEN g % 20 < 3 THEN 'assigned'"
            " ELSE 'closed' END",
            "reported_at": reported,
            "respond_by": f"{reported} + interval '24 hours'",
            "complete_by": f"{reported} + interval '72 hours'",
            "assigned_at": f"CASE WHEN g % 20 = 0 THEN NULL ELSE {reported}"
            " + (g % 30) * interval '1 hour' END",
            "scheduled_for": "NULL",
            "first_visit_at": "NULL",
            "closed_at": f"CASE WHEN g % 20 < 3 THEN NULL ELSE {reported}"
            " + (g % 100) * interval '1 hour' END",
            "confirmed_at": "NULL",
        },
        joins=contract,
    )
    hit = RecheckHit.objects.order_by("pk").first()
    seen = "now() - (g % 365) * interval '1 day'"
    copies(
        max(1, LEASES // 100),
        RecheckHit,
        hit.pk,
        {
            "household_id": "c.household_id",
            "contract_id": "c.id",
            "county_id": str(lease.household.county_id),
            "criterion": pick(list(EligibilityRule.Criterion.values)),
            "status": pick(list(RecheckHit.Status.values)),
            "first_seen_at": seen,
            "last_seen_at": seen,
            "resolved_at": "NULL",
            "resolved_by_id": "NULL",
        },
        joins=contract,
    )
    record = Record.objects.filter(subject__kind="person").order_by("pk").first()
    records = max(1, HOUSEHOLDS // 200)
    copies(
        records,
        Subject,
        record.subject_id,
        {"id_index": "md5('bench-credit-' || g)", "household_id": "NULL"},
    )
    copies(
        records,
        Proposal,
        record.proposal_id,
        {
            "subject_id": "s.id",
            "county_id": pick(counties),
            "source_ref": f"'{billing.PREFIX}' || {KEY}",
        },
        joins="JOIN credit_subject s"
        " ON s.kind = 'person' AND s.id_index = md5('bench-credit-' || g)",
    )
    decided = "(current_date - g % 1000)"
    copies(
        records,
        Record,
        record.pk,
        {
            "proposal_id": "p.id",
            "subject_id": "p.subject_id",
            "county_id": "p.county_id",
            "level": pick(["minor", "serious", "minor", "severe"]),
            "decided_on": decided,
            "effective_until": f"{decided} + 365 * (1 + g % 3)",
            "repaired_on": f"CASE WHEN g % 7 = 0 THEN {decided} + 100 END",
        },
        joins=f"JOIN credit_proposal p ON p.source_ref = '{billing.PREFIX}' || {KEY}",
    )


def make_everything() -> float:
    started = time.perf_counter()
    counties = list(
        Region.objects.filter(level=Region.Level.DISTRICT)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    lease = (
        Contract.objects.filter(status="active", offer__isnull=False)
        .select_related("unit__building", "household")
        .order_by("pk")
        .first()
    )
    saved, billing.CONTRACTS = billing.CONTRACTS, LEASES
    try:
        billing.make_leases(lease)  # LEASES units, cases, households, offers, leases
    finally:
        billing.CONTRACTS = saved
    print(f"  {LEASES:,} leases in {time.perf_counter() - started:.0f} s", flush=True)
    add_units(max(0, UNITS - LEASES))
    print(f"  units in {time.perf_counter() - started:.0f} s", flush=True)
    make_cases(lease, counties)
    print(f"  cases and steps in {time.perf_counter() - started:.0f} s", flush=True)
    make_tenancy(lease, counties)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(0, math.ceil(len(times) * 0.95) - 1)]


class Recorder:
    """Every statement of a request with its time (an execute wrapper: the query log is reset
    by each request and kept only under DEBUG)."""

    def __init__(self) -> None:
        self.statements: list[tuple[float, str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.statements.append((time.perf_counter() - start, sql, params))


def explain(recorder: Recorder) -> None:
    """The three slowest statements of one request, with their plans."""
    for seconds, sql, params in sorted(recorder.statements, key=lambda s: -s[0])[:3]:
        print(f"\n    {seconds * 1000:.0f} ms: {sql[:300]}")
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            for (line,) in cursor.fetchall():
                print(f"      {line}")


def staff(name: str, role: str, region: Region):
    user = get_user_model().objects.create_user(f"bench-{name}", password=None)
    StaffProfile.objects.create(user=user, role=role, region=region)
    return user


def measure(client: Client, url: str) -> tuple[int, float, float]:
    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    if EXPLAIN:
        explain(recorder)
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - start) * 1000)
    return len(recorder.statements), *percentiles(times)


def run(lease_county: Region) -> list[tuple]:
    city = lease_county.parent
    users = {
        "city": staff("city", StaffProfile.Role.CITY, city),
        "county": staff("county", StaffProfile.Role.DISTRICT, lease_county),
    }
    client = Client(HTTP_HOST="127.0.0.1")
    results = []
    for slug in DASHBOARDS:
        if ONLY and slug not in ONLY:
            continue
        for role, user in users.items():
            client.force_login(user)
            statements, p50, p95 = measure(client, f"/staff/statistics/{slug}/")
            results.append((slug, role, statements, p50, p95))
            print(f"  {slug} ({role}): p50 {p50:.0f} ms, p95 {p95:.0f} ms", flush=True)
    return results


def main() -> None:
    name = billing.bench_database()
    settings.DEBUG = False
    lease_county = (
        Contract.objects.filter(status="active", offer__isnull=False)
        .order_by("pk")
        .values_list("household__county", flat=True)
        .first()
    )
    lease_county = Region.objects.get(pk=lease_county)
    kept = Application.objects.filter(number=f"{billing.PREFIX}0000001").exists()
    made = 0.0
    try:
        with transaction.atomic():
            if kept:
                print("reusing the kept bench rows", flush=True)
            else:
                print(f"making {UNITS:,} units and {HOUSEHOLDS:,} households…", flush=True)
                made = make_everything()
            get_user_model().objects.filter(username__startswith="bench-").delete()
            sizes = (Unit.objects.count(), Household.objects.count(), Bill.objects.count())
            steps = ReviewStep.objects.count()
            refreshed = summaries.refresh()
            for r in refreshed:
                print(f"  summary {r.name}: {r.rows:,} rows in {r.seconds:.2f} s", flush=True)
            results = run(lease_county)
            if not KEEP:
                raise billing.Rollback
            get_user_model().objects.filter(username__startswith="bench-").delete()
    except billing.Rollback:
        pass
    units, households, bills = sizes
    print(
        f"\n统计分析 dashboards on {name}: {units:,} units, {households:,} households, "
        f"{bills:,} bills, {steps:,} review steps (made set-based in {made:.0f} s); "
        f"{ROUNDS} rounds each, county user in {lease_county.name} (holds every lease); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"| dashboard | user | SQL | p50 ms | p95 ms | p95 ≤ {TARGET_MS} ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for slug, role, statements, p50, p95 in results:
        ok = "yes" if p95 <= TARGET_MS else "**no**"
        print(f"| {slug} | {role} | {statements} | {p50:.0f} | {p95:.0f} | {ok} |")
    print("\n| summary (worker, every 10 min) | rows | rebuild s |\n| --- | --- | --- |")
    for r in refreshed:
        print(f"| {r.name} | {r.rows:,} | {r.seconds:.2f} |")


if __name__ == "__main__":
    main()
