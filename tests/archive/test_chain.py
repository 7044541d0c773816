"""The archive's hash chain: sealing, and verify_archive finding an edited, deleted or inserted
event, a tampered seal and a rewrite that contradicts a published head.

History is rewritten here as the database owner would: switch the append-only trigger off,
change the row, switch it on. DDL is transactional in PostgreSQL, so the test's rollback
undoes the switch as well as the change."""

import hashlib
import json
from datetime import UTC, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from archive import chain
from archive.models import Event, EventSeal
from archive.services import record_event
from disclosure.archive_head import publish_head
from disclosure.models import Kind, Publication
from disclosure.services import pending_outbox_ids, process_outbox

pytestmark = pytest.mark.django_db


def as_owner(table: str, sql: str, params: list) -> None:
    """What someone holding the database owner's password can do despite the triggers."""
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        cursor.execute(sql, params)
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only")


def insert_event(at, summary: str = "补记") -> int:
    """A plain INSERT (the triggers allow it), dated as the writer likes."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO archive_event (at, action, summary, reason) "
            "VALUES (%s, 'test.inserted', %s, '') RETURNING id",
            [at, summary],
        )
        return cursor.fetchone()[0]


@pytest.fixture
def sealed() -> list[EventSeal]:
    """The demo city's archive plus three fresh events, all sealed; returns the fresh seals."""
    events = [
        record_event("test.chain", f"测试事件{i}", actor=None, unit_id=i, after={"n": i, "x": 1.5})
        for i in range(3)
    ]
    chain.seal_pending()
    return list(EventSeal.objects.filter(event_id__in=[e.pk for e in events]).order_by("position"))


def test_sealing_covers_every_event_once_and_the_chain_verifies(sealed):
    total = Event.objects.count()
    assert EventSeal.objects.count() == total
    assert chain.seal_pending() == 0  # idempotent: nothing is sealed twice
    result = chain.verify()
    assert result.ok and result.checked == total == result.head.position
    assert result.head.digest == sealed[-1].digest
    first = EventSeal.objects.get(position=1)
    assert first.previous == chain.GENESIS
    assert sealed[1].previous == sealed[0].digest

    record_event("test.chain", "之后的事件", actor=None)
    assert chain.status()["pending"] == 1
    assert chain.seal_pending() == 1
    status = chain.status()
    assert status["position"] == total + 1 and status["pending"] == 0
    assert "verify_archive" in status["hint"]
    assert chain.verify().ok


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE archive_eventseal SET digest = digest",
        "DELETE FROM archive_eventseal",
        "TRUNCATE archive_eventseal",
    ],
)
def test_seals_are_append_only_like_the_events(sealed, sql):
    with pytest.raises(DatabaseError, match="refused"), transaction.atomic():
        connection.cursor().execute(sql)
    assert EventSeal.objects.count() == Event.objects.count()


def test_the_digest_follows_the_published_format(sealed):
    """An outside party recomputes a digest from the documented canonical form alone."""
    seal = sealed[1]
    event = Event.objects.get(pk=seal.event_id)
    document = {
        "id": event.pk,
        "at": event.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor_id": None,
        "action": "test.chain",
        "summary": "测试事件1",
        "reason": "",
        "estate_id": None,
        "building_id": None,
        "unit_id": 1,
        "household_id": None,
        "before": None,
        "after": {"n": 1, "x": 1.5},
    }
    text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256((seal.previous + text).encode()).hexdigest() == seal.digest


def test_an_edited_event_is_named(sealed):
    target = sealed[0]
    as_owner(
        "archive_event",
        "UPDATE archive_event SET summary = '改写' WHERE id = %s",
        [target.event_id],
    )
    broken = chain.verify().broken
    assert (broken.problem, broken.position, broken.event_id) == (
        "edited",
        target.position,
        target.event_id,
    )
    assert f"事件 #{target.event_id}" in broken.message and "被改动" in broken.message


def test_a_deleted_event_is_named(sealed):
    target = sealed[1]
    as_owner("archive_event", "DELETE FROM archive_event WHERE id = %s", [target.event_id])
    broken = chain.verify().broken
    assert (broken.problem, broken.position, broken.event_id) == (
        "deleted",
        target.position,
        target.event_id,
    )


def test_an_event_inserted_behind_the_sealer_is_found_and_never_sealed(sealed):
    backdated = insert_event(sealed[-1].sealed_at - chain.GRACE - timedelta(minutes=1))
    broken = chain.verify().broken
    assert (broken.problem, broken.event_id, broken.position) == ("inserted", backdated, None)
    assert chain.seal_pending() == 0  # the sealer does not launder it into the chain
    assert chain.verify().broken.event_id == backdated


def test_an_event_that_committed_late_is_sealed_in_the_next_run(sealed):
    """A long transaction's event, dated before the last run, is normal work, not tampering."""
    late = insert_event(sealed[-1].sealed_at - timedelta(minutes=5), "长事务中记录的事件")
    assert chain.seal_pending() == 1
    assert EventSeal.objects.filter(event_id=late).exists()
    assert chain.verify().ok


def test_a_tampered_seal_is_found(sealed):
    target = sealed[1]
    as_owner(
        "archive_eventseal",
        "UPDATE archive_eventseal SET digest = %s WHERE position = %s",
        ["f" * 64, target.position],
    )
    broken = chain.verify().broken
    assert (broken.problem, broken.position) == ("seal", target.position)


def test_a_removed_seal_breaks_the_chain(sealed):
    target = sealed[1]
    as_owner(
        "archive_eventseal", "DELETE FROM archive_eventseal WHERE position = %s", [target.position]
    )
    broken = chain.verify().broken
    assert (broken.problem, broken.position) == ("chain", target.position)


def test_the_command_exits_non_zero_naming_the_broken_link(sealed, capsys):
    record_event("test.chain", "未封存的事件", actor=None)
    call_command("verify_archive", "--seal-first", verbosity=1)
    out = capsys.readouterr().out
    assert "已封存 1 个新事件" in out and "存证链完整" in out
    target = sealed[2]
    as_owner(
        "archive_event", "UPDATE archive_event SET reason = '补' WHERE id = %s", [target.event_id]
    )
    with pytest.raises(CommandError) as failure:
        call_command("verify_archive", verbosity=0)
    assert failure.value.returncode == 1
    message = str(failure.value)
    assert f"第 {target.position} 环" in message and f"事件 #{target.event_id}" in message


def _publish() -> Publication:
    for pk in pending_outbox_ids():
        process_outbox(pk)
    return Publication.objects.filter(kind=Kind.ARCHIVE_HEAD).order_by("-pk").first()


def test_the_daily_head_is_published_once_and_shown(sealed, client):
    assert publish_head() is not None
    notice = _publish()
    head = notice.data["archive_head"]
    assert head["position"] == EventSeal.objects.count() and head["events"] == head["position"]
    assert head["digest"] == chain.head().digest
    page = client.get(f"/notices/{notice.series_id}/").content.decode()
    assert head["digest"] in page and "存证链头" in page and "如何核对" in page
    assert "档案存证" in client.get("/notices/?kind=archive").content.decode()

    record_event("test.chain", "同一天的新事件", actor=None)
    assert publish_head() is None  # one head a day
    assert Publication.objects.filter(kind=Kind.ARCHIVE_HEAD).count() == 1


def test_a_rewrite_resealed_after_a_published_head_is_found(sealed):
    publish_head()
    _publish()
    target = sealed[-1]
    # The owner edits the event and rebuilds the chain from there: locally consistent again.
    as_owner(
        "archive_eventseal",
        "DELETE FROM archive_eventseal WHERE position >= %s",
        [target.position],
    )
    as_owner(
        "archive_event",
        "UPDATE archive_event SET summary = '改写' WHERE id = %s",
        [target.event_id],
    )
    chain.seal_pending()
    broken = chain.verify().broken
    assert (broken.problem, broken.position) == ("published", target.position)
    assert "公布的存证链头" in broken.message
