"""Benchmarks of public pages on the configured database (make bench): p50/p95 in milliseconds.

Run against the demo city (`make bench` loads it if the database is empty). Figures go to the
issue notes; they are never asserted in tests.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django

django.setup()

from django.test import Client  # noqa: E402

from geo.models import Estate  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "50"))


def measure(label: str, url: str) -> None:
    client = Client(HTTP_HOST="127.0.0.1")
    client.get(url)  # warm up caches and connections
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    p95 = times[max(0, round(len(times) * 0.95) - 1)]
    print(f"| {label} | {url} | {statistics.median(times):.1f} | {p95:.1f} |")


def main() -> None:
    estate = Estate.objects.published().order_by("pk").first()
    if estate is None:
        sys.exit("no published estate: run `make demo` first")
    print(f"{Estate.objects.count()} estates; {ROUNDS} rounds each\n")
    print("| page | url | p50 ms | p95 ms |\n| --- | --- | --- | --- |")
    measure("map home", "/")
    measure("estate page", f"/estates/{estate.pk}/")


if __name__ == "__main__":
    main()
