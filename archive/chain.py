"""The archive's hash chain: every event is sealed with the hash of the one sealed before it.

Events are sealed after they commit, by one sealer at a time (a PostgreSQL advisory lock), so
writers never wait for each other; chain order is seal order, not event id order. Together
with the head published every day (disclosure.archive_head), a rewrite of history shows: an
edited, deleted or back-dated event no longer matches its seal, and a chain rebuilt over the
rewrite no longer matches the head published before it.

Format (docs/decisions/0006-archive-chain.md), enough to re-verify from an export:

- Seals have positions 1, 2, 3 … without gaps; each names one event by its id.
- canonical(event) is the JSON object with the keys id, at, actor_id, action, summary,
  reason, estate_id, building_id, unit_id, household_id, before, after, written by Python's
  ``json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))``; ``at`` is
  UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always six fraction digits); an empty column is
  null; ``before`` and ``after`` are the stored JSON values (non-integer numbers read as
  IEEE-754 doubles).
- digest = lowercase hex SHA-256 of the UTF-8 bytes of ``previous + canonical(event)``, where
  ``previous`` is the digest of the seal before (64 ``0`` for position 1).
- The head is the newest seal's position and digest.

An event may commit after a seal run that began later than its ``at`` (a long transaction);
the sealer takes it in its next run if that is within GRACE of the previous run. An unsealed
event older than that, or one sealed later than that, was inserted behind the sealer's back.
"""

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.models import Event, EventSeal

GENESIS = "0" * 64
# The longest a writing transaction may stay open between recording an event and committing.
GRACE = timedelta(hours=1)
LOCK = 0x616E6A75636861  # advisory lock key: one sealer at a time
BATCH = 5000

EVENT_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "action",
    "summary",
    "reason",
    "estate_id",
    "building_id",
    "unit_id",
    "household_id",
    "before",
    "after",
)
UTC_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _utc_sql(column: str) -> str:
    """A timestamp as UTC_FORMAT text, formatted by PostgreSQL: much faster than parsing it."""
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


SELECT_EVENT = ", ".join(_utc_sql("e.at") if c == "at" else f"e.{c}" for c in EVENT_COLUMNS)
COPY_SEALS = "COPY archive_eventseal (position, event_id, previous, digest, sealed_at) FROM STDIN"
UNSEALED = "NOT EXISTS (SELECT 1 FROM archive_eventseal s WHERE s.event_id = e.id)"

published_heads = Signal()
"""Sent by verify(); a receiver returns [(position, digest, where)] of heads published outside
the archive (the daily public notice), so a chain rebuilt over a rewrite still fails."""


def canonical(row: Iterable) -> str:
    """An event row (columns in EVENT_COLUMNS order; `at` a datetime or already UTC_FORMAT
    text, JSON as text) as the chain hashes it."""
    values = dict(zip(EVENT_COLUMNS, row, strict=True))
    if isinstance(values["at"], datetime):
        values["at"] = values["at"].astimezone(UTC).strftime(UTC_FORMAT)
    for key in ("before", "after"):
        if isinstance(values[key], str):
            values[key] = json.loads(values[key])
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def link(previous: str, row: Iterable) -> str:
    return hashlib.sha256((previous + canonical(row)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Head:
    position: int  # also the number of events sealed
    digest: str
    sealed_at: datetime | None


def head() -> Head:
    tip = EventSeal.objects.order_by("-position").first()
    if tip is None:
        return Head(0, GENESIS, None)
    return Head(tip.position, tip.digest, tip.sealed_at)


def seal_pending(batch: int = BATCH) -> int:
    """Seal the committed events not sealed yet, in id order; returns how many.

    One transaction under the advisory lock: two sealers never interleave, and the chain's tip
    cannot move while this run extends it. Events stream in through a server-side cursor and
    seals go out by COPY, a batch at a time.
    """
    sealed = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK])
        tip = head()
        now = timezone.now()
        # Seal times never go backwards, even if this server's clock is behind the last one's.
        run_at = max(now, tip.sealed_at) if tip.sealed_at else now
        window, params = "", []
        if tip.sealed_at:
            window, params = "AND e.at >= %s", [tip.sealed_at - GRACE]
        position, previous = tip.position, tip.digest
        with connection.chunked_cursor() as events, connection.cursor() as out:
            events.execute(
                f"SELECT {SELECT_EVENT} FROM archive_event e WHERE {UNSEALED} {window} "
                "ORDER BY e.id",
                params,
            )
            while rows := events.fetchmany(batch):
                # COPY: several times faster than INSERT for the first run over a large archive.
                with out.cursor.copy(COPY_SEALS) as copy:
                    for row in rows:
                        position += 1
                        digest = link(previous, row)
                        copy.write_row((position, row[0], previous, digest, run_at))
                        previous = digest
                sealed += len(rows)
    return sealed


@dataclass(frozen=True)
class Break:
    """The first broken link: where, which event, and what is wrong (a Chinese sentence)."""

    position: int | None
    event_id: int | None
    problem: str  # edited | seal | deleted | inserted | chain | published
    message: str


@dataclass(frozen=True)
class Result:
    checked: int
    head: Head
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None


def _anchors() -> dict[int, list[tuple[str, str]]]:
    found: dict[int, list[tuple[str, str]]] = {}
    for _receiver, response in published_heads.send(sender=EventSeal):
        for position, digest, where in response or ():
            found.setdefault(position, []).append((digest, where))
    return found


def _parse(text: str) -> datetime:
    return datetime.strptime(text, UTC_FORMAT).replace(tzinfo=UTC)


def _when(moment: datetime | str) -> str:
    if isinstance(moment, str):
        moment = _parse(moment)
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def verify(progress: Callable[[int], None] | None = None, batch: int = BATCH) -> Result:
    """Walk the seals in order, recompute each digest from the event as it is now, and name
    the first broken link; then look for events slipped in behind the sealer."""
    walk = _Walk(_anchors())
    with transaction.atomic(), connection.chunked_cursor() as cursor:
        cursor.execute(
            f"SELECT s.position, s.event_id, s.previous, s.digest, {_utc_sql('s.sealed_at')}, "
            f"e.id IS NOT NULL, {SELECT_EVENT} FROM archive_eventseal s "
            "LEFT JOIN archive_event e ON e.id = s.event_id ORDER BY s.position"
        )
        while rows := cursor.fetchmany(batch):
            for row in rows:
                broken = walk.step(*row)
                if broken is not None:
                    return Result(walk.checked, head(), broken)
            if progress is not None:
                progress(len(rows))
        broken = walk.finish()
    return Result(walk.checked, head(), broken)


class _Walk:
    """What the walk knows so far: the digest and position due next, and the seal runs.

    Times stay UTC_FORMAT text, which sorts as the instants do."""

    def __init__(self, anchors: dict[int, list[tuple[str, str]]]):
        self.anchors = anchors
        self.previous, self.checked = GENESIS, 0
        self.run: str | None = None
        self.prior_run: str | None = None
        self.cutoff: str | None = None  # events older than this were due in an earlier run

    def step(self, position, event_id, stored_previous, digest, sealed_at, exists, *event):
        broken = self._check(position, event_id, stored_previous, digest, sealed_at, exists, event)
        if broken is None:
            self.previous, self.checked = digest, self.checked + 1
        return broken

    def _check(self, position, event_id, stored_previous, digest, sealed_at, exists, event):
        expected = self.checked + 1
        if position != expected:
            return Break(
                expected,
                None,
                "chain",
                _("第 %(n)s 环缺失（存证记录被删除），下一环为第 %(m)s 环。")
                % {"n": expected, "m": position},
            )
        if stored_previous != self.previous:
            return Break(
                position,
                event_id,
                "chain",
                _(
                    "第 %(n)s 环（事件 #%(e)s）记录的前一摘要与第 %(p)s 环不符："
                    "存证记录被改动、删除或插入。"
                )
                % {"n": position, "e": event_id, "p": position - 1},
            )
        if not exists:
            return Break(
                position,
                event_id,
                "deleted",
                _("第 %(n)s 环：事件 #%(e)s 已不存在（事件被删除）。")
                % {"n": position, "e": event_id},
            )
        recomputed = link(self.previous, event)
        if recomputed != digest:
            return _mismatch(position, event_id, digest, recomputed)
        for published, where in self.anchors.get(position, ()):
            if published != digest:
                return Break(
                    position,
                    event_id,
                    "published",
                    _("第 %(n)s 环的摘要与%(where)s不符：此环及之前的历史被改写后重新封存。")
                    % {"n": position, "where": where},
                )
        if self.run is not None and sealed_at < self.run:
            return Break(
                position,
                event_id,
                "seal",
                _("第 %(n)s 环的封存时间早于前一环（存证记录被改动）。") % {"n": position},
            )
        if self.run is None or sealed_at > self.run:
            self.prior_run, self.run = self.run, sealed_at
            if self.prior_run is not None:
                self.cutoff = (_parse(self.prior_run) - GRACE).strftime(UTC_FORMAT)
        at = event[1]
        if self.cutoff is not None and at < self.cutoff:
            return Break(
                position,
                event_id,
                "inserted",
                _(
                    "第 %(n)s 环：事件 #%(e)s 的时间 %(at)s 早于此前一次封存（%(run)s），"
                    "却到之后才封存：是在封存之后补插的事件。"
                )
                % {"n": position, "e": event_id, "at": _when(at), "run": _when(self.prior_run)},
            )
        return None

    def finish(self) -> Break | None:
        """Heads published for seals that are gone; events older than the last run unsealed."""
        for position in sorted(p for p in self.anchors if p > self.checked):
            return Break(
                position,
                None,
                "published",
                _("%(where)s的第 %(n)s 环已不存在（存证记录被删除）。")
                % {"n": position, "where": self.anchors[position][0][1]},
            )
        if self.run is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT e.id, e.at FROM archive_event e WHERE e.at < %s AND {UNSEALED} "
                "ORDER BY e.id LIMIT 1",
                [_parse(self.run) - GRACE],
            )
            row = cursor.fetchone()
        if row is None:
            return None
        return Break(
            None,
            row[0],
            "inserted",
            _(
                "事件 #%(e)s 的时间 %(at)s 早于最近一次封存（%(run)s），却没有存证："
                "是在封存之后补插的事件。"
            )
            % {"e": row[0], "at": _when(row[1]), "run": _when(self.run)},
        )


def _mismatch(position: int, event_id: int, digest: str, recomputed: str) -> Break:
    """The event or its seal changed: the next seal's `previous` still holds the true digest."""
    after = EventSeal.objects.filter(position=position + 1).values_list("previous", flat=True)
    following = after.first()
    if following == digest:
        return Break(
            position,
            event_id,
            "edited",
            _("第 %(n)s 环：事件 #%(e)s 的内容与存证摘要不符（事件被改动）。")
            % {"n": position, "e": event_id},
        )
    if following == recomputed:
        return Break(
            position,
            event_id,
            "seal",
            _("第 %(n)s 环：事件 #%(e)s 的存证摘要被改动。") % {"n": position, "e": event_id},
        )
    return Break(
        position,
        event_id,
        "edited",
        _("第 %(n)s 环：事件 #%(e)s 与存证摘要不符（事件或存证被改动）。")
        % {"n": position, "e": event_id},
    )


def pending(tip: Head | None = None) -> int:
    """Events the next run will seal."""
    tip = tip or head()
    qs = Event.objects.all()
    if tip.sealed_at:
        qs = qs.filter(at__gte=tip.sealed_at - GRACE)
    return qs.filter(~Exists(EventSeal.objects.filter(event_id=OuterRef("pk")))).count()


def status() -> dict:
    """The chain's head for the staff archive page, with how to check the whole chain."""
    tip = head()
    return {
        "position": tip.position,
        "digest": tip.digest,
        "sealed_at": tip.sealed_at,
        "pending": pending(tip),
        "hint": _("在服务器上运行 python manage.py verify_archive 逐环核验整条存证链。"),
    }
