"""Benchmark of 动态核查 (make bench): re-check 100,000 tenant households against the demo data
platform's 8 departments with bulk queries, in batches; the target is ≤ 60 s on one machine.

The leases are made as bench/billing.py makes them (INSERT … SELECT in the bench database,
<name>_bench, which keeps only a small demo city); each household then gets its own ID number,
encrypted here and loaded with COPY, about 1 in 100 from the sequences the synthetic records
reserve for breaking a rule. The demo platform runs as a subprocess, as `make run` starts it.
Everything is rolled back at the end. BENCH_CONTRACTS sets the number of households; the figure
goes to the issue notes, never into a test.
"""

import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import billing  # noqa: E402  (sets up Django on the bench settings)
from django.db import connection, transaction  # noqa: E402

from archive.crypto import blind_index, encrypt  # noqa: E402
from exchange.idcard import make_id_number  # noqa: E402
from exchange.sources import BULK_PAGE, HttpJsonSource  # noqa: E402
from exchange.synthetic import DEPARTMENTS, FAILS  # noqa: E402
from housing.models import Household  # noqa: E402
from tenancy.models import Contract, RecheckHit  # noqa: E402
from tenancy.services import recheck  # noqa: E402

N = billing.CONTRACTS
# The platform's processes (a city platform is more than one Python process too).
PROCESSES = int(os.environ.get("BENCH_PLATFORM_PROCESSES", "2"))


def number_of(i: int, county: str) -> str:
    """Distinct for up to 100,000 people: 25,000 birth days times four sequence groups."""
    day, group = i % 25_000, i // 25_000
    sequence = int(sorted(FAILS)[group % 4]) if i % 100 == 7 else 100 + group
    return make_id_number(county, date(1940, 1, 1) + timedelta(days=day), sequence)


def give_id_numbers(county: str) -> float:
    """Each bench household its own (encrypted) ID number, through COPY and one UPDATE."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_ids (g int, token text, idx text) ON COMMIT DROP")
        with cursor.copy("COPY bench_ids (g, token, idx) FROM STDIN") as copy:
            for i in range(1, N + 1):
                number = number_of(i, county)
                copy.write_row((i, encrypt(number), blind_index(number)))
        cursor.execute(
            "UPDATE housing_household h SET head_id_number = b.token, head_id_index = b.idx "
            "FROM bench_ids b JOIN housing_application a "
            f"ON a.number = '{billing.PREFIX}' || lpad(b.g::text, 7, '0') "
            "WHERE h.application_id = a.id"
        )
        cursor.execute("ANALYZE housing_household")
    return time.perf_counter() - started


def start_platform() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "exchange.demo_platform",
            "--port",
            "0",
            "--processes",
            str(PROCESSES),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    return proc, proc.stdout.readline().strip().rsplit(" ", 1)[-1]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and the processes it forked (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for each in [str(pid), *children]:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
    except OSError:
        return float("nan")
    return total


def main() -> None:
    name = billing.bench_database()
    # A lease that came from an offer: make_leases copies the offer with it.
    lease = (
        Contract.objects.filter(offer__isnull=False)
        .select_related("unit", "household__county")
        .order_by("pk")
        .first()
    )
    platform, url = start_platform()
    source = HttpJsonSource(url, "anju-demo", "anju-demo-secret", timeout=10)
    try:
        with transaction.atomic():
            made = billing.make_leases(lease)
            made += give_id_numbers(lease.household.county.adcode)
            households = Contract.objects.filter(status="active").count()
            started, cpu, served = (
                time.perf_counter(),
                time.process_time(),
                cpu_seconds(platform.pid),
            )
            run = recheck.run_recheck(actor=None, source=source)
            seconds = time.perf_counter() - started
            cpu, served = time.process_time() - cpu, cpu_seconds(platform.pid) - served
            hits = RecheckHit.objects.filter(status="open").count()
            distinct = Household.objects.filter(recheck_hits__isnull=False).distinct().count()
            started = time.perf_counter()
            again = recheck.run_recheck(actor=None, source=source)
            again_seconds = time.perf_counter() - started
            raise billing.Rollback
    except billing.Rollback:
        pass
    finally:
        platform.terminate()
        platform.wait(timeout=10)
    requests = -(-households // recheck.BATCH) * len(DEPARTMENTS)
    print(
        f"\n动态核查 on {name}: {households:,} tenant households "
        f"({N:,} made set-based in {made:.1f} s), {len(DEPARTMENTS)} departments, "
        f"batches of {recheck.BATCH} (≤ {BULK_PAGE} ID numbers per signed POST)"
    )
    print("| run | households | bulk requests | open hits | seconds | households/s |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(
        f"| first run | {run.done:,} | {requests:,} | {hits:,} ({distinct:,} households) "
        f"| {seconds:.1f} | {run.done / seconds:,.0f} |"
    )
    print(
        f"| second run (refreshes, no new hit) | {again.done:,} | {requests:,} "
        f"| {again.hits_refreshed:,} refreshed, {again.hits_new} new | {again_seconds:.1f} "
        f"| {again.done / again_seconds:,.0f} |"
    )
    print(
        f"first run CPU: {cpu:.1f} s in this process (all threads), {served:.1f} s in the "
        f"platform's {PROCESSES} processes, on {os.cpu_count()} cores; load average "
        f"{os.getloadavg()[0]:.1f} (the figure is wall time on a shared machine)"
    )
    assert run.status == again.status == "finished" and run.done == households >= N
    assert again.hits_new == 0 and again.hits_refreshed == hits


if __name__ == "__main__":
    main()
