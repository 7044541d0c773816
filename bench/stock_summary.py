"""Cost of keeping the per-estate stock summary current (make bench, issue 17): a bulk update
of 10,000 units spread over every estate of the province-size city, timed without the summary
trigger, with the recounting trigger of migration geo 0006 (before) and with the delta trigger
of geo 0009 (now), each in a transaction that is rolled back. After every timed statement the
summary is checked against a full recount (geo.summaries.mismatched_estates).

The database is bench/public_load.py's (<name>_load_<units>, BENCH_UNITS, default 1,000,000;
created once by `load_demo`). BENCH_ROUNDS_SUMMARY (default 3) rounds per case; the median is
printed. Figures are never asserted in tests.
"""

import importlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from django.db import connection, transaction  # noqa: E402
from public_load import load_database  # noqa: E402  (sets up Django on the owner's role)

from geo import summaries  # noqa: E402
from geo.models import Estate, Unit  # noqa: E402

UNITS = int(os.environ.get("BENCH_UNITS", "1000000").split(",")[-1])
ROUNDS = int(os.environ.get("BENCH_ROUNDS_SUMMARY", "3"))
CHANGED = 10_000
DELTAS = importlib.import_module("geo.migrations.0009_incremental_estate_summary")

# Each case changes about CHANGED units spread evenly over the whole table (every k-th id).
CASES = {
    "rent +1% (figures only)": "UPDATE geo_unit SET monthly_rent = round(monthly_rent * 1.01, 2)"
    " WHERE id %% %(k)s = 0",
    "status vacant→repair, occupied→vacant": "UPDATE geo_unit SET status = CASE status"
    " WHEN 'vacant' THEN 'repair' WHEN 'occupied' THEN 'vacant' ELSE status END"
    " WHERE id %% %(k)s = 1",
}
# The recounting trigger functions of 0006, put back inside the rolled-back transaction.
RECOUNT = DELTAS.BACKWARD.split("DROP FUNCTION")[0]


def timed(sql: str, k: int, setup: str | None, check: bool) -> tuple[float, int, int]:
    """Milliseconds for the statement, rows changed, estates left wrong (-1: not checked)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if setup:
            cursor.execute(setup)
        started = time.perf_counter()
        cursor.execute(sql, {"k": k})
        ms = (time.perf_counter() - started) * 1000
        rows = cursor.rowcount
        wrong = len(summaries.mismatched_estates()) if check else -1
        transaction.set_rollback(True)
    return ms, rows, wrong


def main() -> None:
    name = load_database(UNITS)
    units, estates = Unit.objects.count(), Estate.objects.count()
    step = max(1, units // CHANGED)
    print(f"stock summary trigger cost: {name}, {units:,} units / {estates:,} estates")
    print(f"  {'case':40} {'rows':>6} {'no trigger':>11} {'0006 recount':>13} {'0009 deltas':>12}")
    variants = {
        "no trigger": ("ALTER TABLE geo_unit DISABLE TRIGGER geo_unit_summary_upd", False),
        "0006 recount": (RECOUNT, True),
        "0009 deltas": (None, True),
    }
    for case, sql in CASES.items():
        figures, rows, wrong = {}, 0, 0
        for variant, (setup, check) in variants.items():
            runs = [timed(sql, step, setup, check) for _ in range(ROUNDS)]
            figures[variant] = statistics.median(ms for ms, _r, _w in runs)
            rows = runs[0][1]
            wrong += sum(max(w, 0) for _ms, _r, w in runs)
        print(
            f"  {case:40} {rows:>6,} {figures['no trigger']:>9.0f} ms"
            f" {figures['0006 recount']:>10.0f} ms {figures['0009 deltas']:>9.0f} ms"
        )
        base = figures["no trigger"]
        print(
            f"  {'':40} trigger overhead: 0006 {figures['0006 recount'] - base:+.0f} ms,"
            f" 0009 {figures['0009 deltas'] - base:+.0f} ms"
            f" ({figures['0006 recount'] / figures['0009 deltas']:.1f}× faster statement);"
            f" summaries equal to a recount: {'yes' if wrong == 0 else f'NO ({wrong} estates)'}"
        )


if __name__ == "__main__":
    main()
