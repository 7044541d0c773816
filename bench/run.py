"""Benchmarks of the public portal (make bench): p50/p95 in ms, each beside its raw SQL floor.

For every case the request's own SQL is captured once and then timed straight on the
database cursor: the view's overhead is the gap between the two. Figures go to the issue
notes; they are never asserted in tests. Run on the demo city (make bench loads it).
"""

import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from geo.models import Estate, Unit  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "100"))


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(0, math.ceil(len(times) * 0.95) - 1)]


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def measure(client: Client, label: str, url: str) -> str:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code in (200, 204), (url, response.status_code)
    statements = [q["sql"] for q in captured.captured_queries]
    view, floor = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        client.get(url)
        view.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
        floor.append((time.perf_counter() - start) * 1000)
    v50, v95 = percentiles(view)
    f50, f95 = percentiles(floor)
    return (
        f"| {label} | `{url}` | {len(statements)} | {v50:.1f} | {v95:.1f} | {f50:.1f} | "
        f"{f95:.1f} | {v95 / f95:.2f}× |"
    )


def main() -> None:
    settings.DEBUG = False
    estate = Estate.objects.published().filter(buildings__units__status="vacant").first()
    if estate is None:
        sys.exit("no published estate with vacancies: run `make demo` first")
    building = estate.buildings.filter(units__status="vacant").first()
    centre = building.footprint.point_on_surface if building.footprint else estate.location
    x12, y12 = tile_xy(centre.x, centre.y, 12)
    x15, y15 = tile_xy(centre.x, centre.y, 15)
    client = Client(HTTP_HOST="127.0.0.1")
    cases = [
        ("vacancy search (estates)", "/api/estates/?rooms=2&area_min=40&rent_max=700"),
        ("vacancy search (units)", "/api/units/?district=341602&rooms=1&elevator=1"),
        ("search box", "/api/search/?q=xfjy"),
        ("search box (Chinese)", "/api/search/?q=" + estate.name[:2]),
        ("tile z12 vacant-units", f"/tiles/vacant-units/12/{x12}/{y12}.pbf"),
        ("tile z15 vacant-units", f"/tiles/vacant-units/15/{x15}/{y15}.pbf"),
        ("OGC items", "/ogc/collections/vacant-units/items?limit=50&rooms=2"),
        ("map home page", "/"),
    ]
    print(
        f"{Estate.objects.count()} estates, {Unit.objects.count()} units; "
        f"{ROUNDS} rounds each; times in ms\n"
    )
    print("| case | url | SQL | p50 | p95 | SQL p50 | SQL p95 | p95 / SQL |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, url in cases:
        print(measure(client, label, url), flush=True)


if __name__ == "__main__":
    main()
