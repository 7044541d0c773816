"""Benchmark of 档案批量下载 (make bench): one ZIP of 1,000 households' files, and of 200, with
time, ZIP size and the process's resident memory, to show memory stays flat as a batch grows.

The households are made as bench/billing.py makes its leases (INSERT … SELECT in the bench
database, <name>_bench): each holds a lease whose PDFs (draft, and the signed copy where the
template lease has one) are the demo's stored files, so every folder has an 索引.pdf rendered
by WeasyPrint and its documents copied from the store. The job function runs here, as the
worker would run it; everything is rolled back and the ZIPs deleted at the end.
BENCH_BATCH_SIZES sets the sizes (default "200,1000"); figures go to the issue notes, never
into a test.
"""

import os
import sys
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import billing  # noqa: E402  (sets up Django on the bench settings)
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import F  # noqa: E402

from housing.models import Household  # noqa: E402
from insights import batches  # noqa: E402
from insights.models import BatchDownload  # noqa: E402
from tenancy.models import Contract  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_BATCH_SIZES", "200,1000").split(",")]
WARM_UP = 5  # folders built first so WeasyPrint's fonts are loaded before anything is measured


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class PeakMemory:
    """The highest resident set size seen while the block runs (sampled every 20 ms)."""

    def __enter__(self) -> "PeakMemory":
        self.before = self.peak = rss_kb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_kb())

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kb())


def run(user, household_ids: tuple[int, ...]) -> dict:
    selection = batches.Selection(household_ids=household_ids)
    batch = BatchDownload.objects.create(
        requested_by=user, selection=selection.as_json(), total_folders=selection.folders
    )
    with PeakMemory() as memory:
        started = time.perf_counter()
        batches.build(batch.pk)
        seconds = time.perf_counter() - started
    batch.refresh_from_db()
    assert batch.status == BatchDownload.Status.DONE, batch.error
    path = batches.zip_file(batch)
    with zipfile.ZipFile(path) as archive:
        members = len(archive.infolist())
    size = path.stat().st_size
    path.unlink()
    return {
        "folders": len(household_ids),
        "members": members,
        "seconds": seconds,
        "bytes": size,
        "before": memory.before,
        "peak": memory.peak,
    }


def main() -> None:
    billing.CONTRACTS = max(SIZES)  # make_leases copies this many households with leases
    name = billing.bench_database()
    lease = (
        Contract.objects.filter(offer__isnull=False)
        .order_by(F("signed_id").desc(nulls_last=True), "pk")
        .first()
    )
    results = []
    try:
        with transaction.atomic():
            made = billing.make_leases(lease)
            user = get_user_model().objects.create_superuser("bench-batch", password=None)
            ids = tuple(
                Household.objects.filter(application__number__startswith=billing.PREFIX)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            run(user, ids[:WARM_UP])
            results = [run(user, ids[:n]) for n in SIZES]
            raise billing.Rollback
    except billing.Rollback:
        pass
    files = 2 if lease.signed_id else 1
    print(
        f"\n档案批量下载 on {name}: households made set-based in {made:.1f} s, each folder an "
        f"索引.pdf (WeasyPrint) and {files} lease PDF(s); one ZIP written to disk per run"
    )
    print(
        "| households | ZIP members | seconds | folders/s | ZIP MB | RSS before MB | peak RSS MB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(
            f"| {r['folders']:,} | {r['members']:,} | {r['seconds']:.1f} "
            f"| {r['folders'] / r['seconds']:.1f} | {r['bytes'] / 2**20:.1f} "
            f"| {r['before'] / 1024:.0f} | {r['peak'] / 1024:.0f} |"
        )
    growth = results[-1]["peak"] - results[0]["peak"]
    print(
        f"peak memory grew {growth / 1024:+.0f} MB from {results[0]['folders']:,} to "
        f"{results[-1]['folders']:,} households (flat: the ZIP and its manifest live on disk)"
    )


if __name__ == "__main__":
    main()
