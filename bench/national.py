"""National-size benchmark (issue 17, point 3): z12–z15 tiles and `/` at 16,000,000 units.

Long, so `make bench` runs it only with BENCH_NATIONAL=1. The data: BENCH_NATIONAL_DB (default
<name>_national_16m), created once with `load_demo --units BENCH_NATIONAL_UNITS` (a planned
city of a million units copied by set-based SQL into 16 cities on a grid: 80,000 estates) and
kept; a database holding at least 90 % of the units asked for is reused as it is.

gunicorn as deployed (production settings, 3 sync workers) on 127.0.0.1, as in
bench/public_load.py: `/` rendered in process with its page cache emptied, then over HTTP
sequentially and under BENCH_CLIENTS clients; per zoom 12 to 15 the vacant-units tiles of 50
estates spread over the country, first rendered (the tile cache emptied) then cached, and the
raw ST_AsMVT statement on the cursor (JIT off, as the view runs it). Figures go to
docs/scaling.md; they are never asserted in tests.
"""

import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import public_load as pl  # sets up Django on the owner's role, as the other benches do
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import Client

from geo.models import Building, Estate, Unit

UNITS = int(os.environ.get("BENCH_NATIONAL_UNITS", "16000000"))
DATABASE = os.environ.get("BENCH_NATIONAL_DB", f"{pl.BASE_NAME}_national_{UNITS // 1_000_000}m")
ZOOMS = (12, 13, 14, 15)


def national_database() -> str:
    """Create (once) and select the national database; reuse it when it is already full."""
    pl.use_database(pl.BASE_NAME)
    pl.settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = DATABASE
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=True, serialize=False)
    units = Unit.objects.count()
    if units >= UNITS * 0.9:
        return DATABASE
    if units:
        raise SystemExit(
            f"{DATABASE} holds {units:,} units, not {UNITS:,}: drop it or name another"
        )
    started = time.perf_counter()
    print(f"loading {UNITS:,} units into {DATABASE} (once; about 10 minutes)…", flush=True)
    call_command("load_demo", units=UNITS, contracts=20, seed=1, verbosity=0)
    print(f"  loaded in {time.perf_counter() - started:.0f} s", flush=True)
    return DATABASE


def ms(times: list[float]) -> str:
    return f"{statistics.median(times):.1f} | {pl.percentile(times, 0.95):.1f}"


def rendered_home_ms(rounds: int = 5) -> list[float]:
    """`/` built in process with the page cache emptied each time: what the first visitor
    after a stock change waits for (gunicorn's own start-up request renders it there)."""
    client = Client(HTTP_HOST="127.0.0.1")
    times = []
    for _ in range(rounds):
        cache.clear()
        start = time.perf_counter()
        client.get("/")
        times.append((time.perf_counter() - start) * 1000)
    cache.clear()
    return times


def run_home(port: int) -> None:
    rendered = rendered_home_ms()
    times, errors = pl.sequential(port, ["/"], max(pl.ROUNDS, 30))
    loaded = pl.load(port, ["/"], pl.SECONDS, pl.CLIENTS)
    print(
        "\n| `/` | rendered p50 ms | rendered max ms | p50 ms | p95 ms | errors | req/s | p95 ms |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    print(
        f"| sequential, then {pl.CLIENTS} clients | {statistics.median(rendered):.0f} "
        f"| {max(rendered):.0f} | {ms(times)} | {errors} | {loaded['rps']:.0f} "
        f"| {loaded['p95']:.1f} |",
        flush=True,
    )


def run_tiles(port: int, estates: list[Estate]) -> None:
    print("\nvacant-units tiles (one per sampled estate), sequential over HTTP, ms")
    print(
        "| zoom | tiles | features | rendered p50 | rendered p95 | cached p50 | cached p95 "
        "| raw SQL p50 | raw SQL p95 | errors |"
    )
    print("| --- " * 10 + "|")
    for z in ZOOMS:
        tiles = pl.tile_cases(estates, z)
        urls = [f"/tiles/vacant-units/{z}/{x}/{y}.pbf" for z, x, y in tiles]
        cold, errors = pl.sequential(port, urls, len(urls))  # each tile once: rendered now
        cached, more = pl.sequential(port, urls, max(pl.ROUNDS, 2 * len(urls)))
        features = sum(pl.mvt_features(pl.fetch(port, u)[1]) for u in urls)
        raw = pl.raw_tile_ms(tiles, jit=False)
        print(
            f"| z{z} | {len(tiles)} | {features:,} | {ms(cold)} | {ms(cached)} | {ms(raw)} "
            f"| {errors + more} |",
            flush=True,
        )


def main() -> None:
    pl.settings.DEBUG = False
    print(f"national benchmark: {UNITS:,} units (BENCH_NATIONAL_UNITS) in {DATABASE}")
    name = national_database()
    sizes = (Estate.objects.count(), Building.objects.count(), Unit.objects.count())
    print(f"{name}: {sizes[0]:,} estates, {sizes[1]:,} buildings, {sizes[2]:,} units")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"  database size {cursor.fetchone()[0]}")
    estates = pl.sample_estates(50)
    pl.collect_static()
    for kept in pl.cache_root().glob(f"{name}-*"):  # tiles of an earlier run: cold means cold
        shutil.rmtree(kept, ignore_errors=True)
    with pl.gunicorn(name) as (port, _process):
        run_home(port)
        run_tiles(port, estates)


if __name__ == "__main__":
    main()
