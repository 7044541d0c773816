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
    user = settings.ANJU_DB_APP_ROLE or db["USER"]  # the worker runs as the app, as deployed
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{user}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
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


def other_backends_holding(mode: str, table: str, *, idle_in_transaction: bool = False) -> bool:
    """Whether another connection (the worker's) holds `mode` on `table`; with
    `idle_in_transaction`, only while it waits inside its open transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE c.relname = %s AND l.mode = %s AND l.granted AND l.pid <> pg_backend_pid() "
            "AND (NOT %s OR a.state = 'idle in transaction')",
            [table, mode, idle_in_transaction],
        )
        return cursor.fetchone()[0] > 0


def worker_paused_before_commit() -> bool:
    """The publication is inserted and the outbox row marked, in a transaction not committed."""
    return other_backends_holding(
        "RowExclusiveLock", "disclosure_publication", idle_in_transaction=True
    ) and other_backends_holding("RowExclusiveLock", "disclosure_outbox", idle_in_transaction=True)


def job_status(outbox_id: int) -> list[str]:
    """The queue's view of the publishing job(s) deferred for one outbox row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status FROM procrastinate_jobs WHERE task_name = %s "
            "AND (args->>'outbox_id')::int = %s ORDER BY id",
            ["disclosure.tasks.publish_outbox", outbox_id],
        )
        return [row[0] for row in cursor.fetchall()]


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
        assert job_status(outbox.pk) == ["todo"]
        slow = start_worker(pause=60)
        try:
            wait_for(worker_paused_before_commit, 30, "the worker to write and pause uncommitted")
            assert Outbox.objects.get(pk=outbox.pk).processed_at is None, "not committed yet"
            os.killpg(slow.pid, signal.SIGKILL)
            slow.wait(timeout=10)
        finally:
            if slow.poll() is None:
                os.killpg(slow.pid, signal.SIGKILL)
        wait_for(
            lambda: not other_backends_holding("RowExclusiveLock", "disclosure_publication"),
            30,
            "the killed worker's transaction to be rolled back",
        )
        assert not Publication.objects.filter(outbox_id=outbox.pk).exists(), "nothing half-done"
        assert Outbox.objects.get(pk=outbox.pk).processed_at is None, "nothing lost"

        worker = start_worker()
        try:
            wait_for(
                lambda: Publication.objects.filter(outbox_id=outbox.pk).exists(),
                60,
                "the restarted worker to publish",
            )
            # The job deferred with the outbox row runs too, and must find nothing to do.
            wait_for(
                lambda: job_status(outbox.pk) in (["succeeded"], ["failed"]),
                60,
                "the worker to run the original publishing job",
            )
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=20)
        assert job_status(outbox.pk) == ["succeeded"]
        assert Publication.objects.filter(title="进程中断测试公告").count() == 1
        assert process_outbox(outbox.pk).title == "进程中断测试公告"
        assert Publication.objects.filter(title="进程中断测试公告").count() == 1
        connection.close()
