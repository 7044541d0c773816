"""The real worker (procrastinate on PostgreSQL), killed in the middle of publishing:
nothing is lost and nothing is published twice.

Not inside a test transaction: the worker is another process and sees committed rows only.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

from disclosure.models import Kind, Outbox, Publication
from disclosure.services import enqueue_publication, process_outbox
from geo.models import Region

ROOT = Path(__file__).resolve().parents[2]


def start_worker(pause: float | None = None) -> subprocess.Popen:
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_DEBUG": "true",
        "SECRET_KEY": "worker-test-key",
    }
    env.pop("ANJU_TEST_PUBLISH_PAUSE", None)
    if pause:
        env["ANJU_TEST_PUBLISH_PAUSE"] = str(pause)
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def worker_holds_the_row(outbox_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'disclosure_outbox' AND l.pid <> pg_backend_pid() "
            "AND l.mode = 'RowShareLock'"
        )
        return cursor.fetchone()[0] > 0


def test_worker_killed_mid_publication_then_restarted_publishes_exactly_once(
    django_db_setup, django_db_blocker
):
    with django_db_blocker.unblock():
        outbox = enqueue_publication(  # autocommit: committed at once, job deferred too
            kind=Kind.GENERAL_NOTICE,
            region=Region.objects.get(adcode="341600"),
            title="进程中断测试公告",
            body="worker test",
        )
        slow = start_worker(pause=60)
        try:
            wait_for(lambda: worker_holds_the_row(outbox.pk), 30, "the worker to lock the row")
            time.sleep(0.5)  # inside the transaction, publication written but not committed
            os.killpg(slow.pid, signal.SIGKILL)
            slow.wait(timeout=10)
        finally:
            if slow.poll() is None:
                os.killpg(slow.pid, signal.SIGKILL)
        assert not Publication.objects.filter(outbox_id=outbox.pk).exists(), "nothing half-done"
        assert Outbox.objects.get(pk=outbox.pk).processed_at is None, "nothing lost"

        worker = start_worker()
        try:
            wait_for(
                lambda: Publication.objects.filter(outbox_id=outbox.pk).exists(),
                60,
                "the restarted worker to publish",
            )
            time.sleep(2)  # let the worker also run the original job, which must do nothing
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)
        assert Publication.objects.filter(title="进程中断测试公告").count() == 1
        assert process_outbox(outbox.pk).title == "进程中断测试公告"
        assert Publication.objects.filter(title="进程中断测试公告").count() == 1
        connection.close()
