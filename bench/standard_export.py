"""Benchmark of the 贯标 export (make bench): the 房源信息 group (项目 + 房屋) at growing sizes,
in each format, with the time and the peak memory of each run, which must stay flat.

The units live in a database of their own (<name>_bench, created once and kept, holding a
small demo city), made set-based in one transaction: BENCH_UNITS (comma-separated, growing;
default 100000,1000000) units copied from one demo unit by INSERT … SELECT over
generate_series. Each export runs in a forked child on the same connection, so its peak RSS
(wait4's ru_maxrss) is its own, not the biggest run's so far; then everything is rolled back.
The figures go to the issue notes; they are never asserted in tests.
"""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
if os.environ.get("DATABASE_OWNER_URL"):
    os.environ["DATABASE_URL"] = os.environ["DATABASE_OWNER_URL"]

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from geo.models import Unit  # noqa: E402
from insights.standard import mapping as standard_mapping  # noqa: E402
from insights.standard.writers import FORMATS, Export  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_UNITS", "100000,1000000").split(",") if n]
GROUPS = os.environ.get("BENCH_GROUPS", "housing").split(",")


class Rollback(Exception):
    """Raised at the end of the benchmark's transaction: nothing it made is kept."""


def bench_database() -> str:
    """Create (once) and select the bench database, with the demo city in it."""
    name = f"{settings.DATABASES['default']['NAME']}_bench"
    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = name
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
    if not Unit.objects.exists():
        print(f"loading a small demo city into {name} (once)…", flush=True)
        call_command("load_demo", contracts=20, seed=1, verbosity=0)
    return name


def add_units(template: Unit, start: int, stop: int) -> float:
    """Units start+1…stop like `template` (numbers S0000001…), set-based; returns seconds."""
    started = time.perf_counter()
    columns = [f.column for f in Unit._meta.concrete_fields if f.column != "id"]
    values = {"number": "'S' || lpad(g::text, 7, '0')"}
    select = [values.get(c, f"t.{c}") for c in columns]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO geo_unit ({', '.join(columns)}) SELECT {', '.join(select)} "
            "FROM geo_unit t CROSS JOIN generate_series(%(a)s, %(b)s) g WHERE t.id = %(t)s",
            {"a": start + 1, "b": stop, "t": template.pk},
        )
        cursor.execute("ANALYZE geo_unit")
    return time.perf_counter() - started


def export_in_child(mapping, fmt: str, folder: str) -> tuple[float, int, int, int]:
    """(seconds, rows, bytes, peak RSS in MB) of one export run in a forked child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: export, report, leave without closing the shared connection
        os.close(read)
        started = time.perf_counter()
        run = Export(mapping, mapping.tables(GROUPS))
        target = Path(folder) / f"export.{fmt}"
        if fmt == "json":
            with open(target, "w", encoding="utf-8") as out:
                for chunk in run.json_chunks():
                    out.write(chunk)
        else:
            with open(target, "wb") as out:
                (run.write_csv_zip if fmt == "csv" else run.write_xlsx)(out)
        seconds = time.perf_counter() - started
        rows = sum(run.exported.values())
        os.write(write, f"{seconds} {rows} {target.stat().st_size}".encode())
        os._exit(0)
    os.close(write)
    _pid, status, usage = os.wait4(pid, 0)
    answer = os.read(read, 200).decode().split()
    os.close(read)
    if status != 0 or len(answer) != 3:
        raise RuntimeError(f"the {fmt} export failed in its child (status {status})")
    return float(answer[0]), int(answer[1]), int(answer[2]), usage.ru_maxrss // 1024


def main() -> None:
    name = bench_database()
    mapping = standard_mapping.load()
    template = Unit.objects.order_by("pk").first()
    results = []
    try:
        with transaction.atomic(), tempfile.TemporaryDirectory() as folder:
            made = 0
            for size in SIZES:
                seconds = add_units(template, made, size)
                made = size
                total = Unit.objects.count()
                print(
                    f"{size:,} bench units added ({total:,} in all) in {seconds:.1f} s", flush=True
                )
                for fmt in FORMATS:
                    took, rows, size_bytes, rss = export_in_child(mapping, fmt, folder)
                    results.append((total, fmt, rows, took, size_bytes, rss))
                    print(f"  {fmt}: {rows:,} rows, {took:.1f} s, peak RSS {rss} MB", flush=True)
            raise Rollback
    except Rollback:
        pass
    print(f"\n贯标 export of {'+'.join(GROUPS)} on {name}")
    print("| units | format | rows | seconds | rows/s | file MB | peak RSS MB |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for total, fmt, rows, took, size_bytes, rss in results:
        print(
            f"| {total:,} | {fmt} | {rows:,} | {took:.1f} | {rows / took:,.0f} | "
            f"{size_bytes / 1e6:.1f} | {rss} |"
        )


if __name__ == "__main__":
    main()
