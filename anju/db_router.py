"""Reads of anonymous public requests from a read replica, everything else from the primary.

When settings.DATABASES has a `replica` (ANJU_DATABASE_REPLICA_URL), a request the middleware
(portal.db_routing) marks as a public read sends its ORM reads there, and raw SQL asks
`read_connection()`; writes, signed-in and write requests, and any read inside a transaction
use the primary, so nobody misses their own change to replication lag. A request that writes
(a session saved, a row recorded) reads the primary from then on. Without a replica every
query goes to the primary, as before.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

REPLICA = "replica"
_public_read: ContextVar[bool] = ContextVar("anju_public_read", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def public_reads() -> Iterator[None]:
    """Reads inside go to the replica (if any) until something writes; reset on the way out."""
    token = _public_read.set(True)
    try:
        yield
    finally:
        _public_read.reset(token)


def _in_transaction() -> bool:
    """True inside a transaction on the primary; a test case's own wrapping one does not count
    (the same exception Django makes for durable atomic blocks)."""
    primary = connections[DEFAULT_DB_ALIAS]
    if primary.in_atomic_block:
        return any(not getattr(block, "_from_testcase", False) for block in primary.atomic_blocks)
    return primary.connection is not None and not primary.autocommit


def read_alias() -> str:
    """The database alias this moment's reads should use."""
    if _public_read.get() and replica_configured() and not _in_transaction():
        return REPLICA
    return DEFAULT_DB_ALIAS


def read_connection() -> BaseDatabaseWrapper:
    """The connection for raw SQL reads (tiles, stock version): the ORM's choice, so a page's
    cache key and its body come from the same database."""
    return connections[read_alias()]


class ReplicaRouter:
    """DATABASE_ROUTERS entry: reads where read_alias() says, writes always on the primary."""

    def db_for_read(self, model, **hints) -> str | None:
        if not replica_configured():
            return None
        instance = hints.get("instance")
        if instance is not None and instance._state.db:
            return instance._state.db  # related rows from the database the object came from
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        _public_read.set(False)  # read-your-writes for the rest of this request
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool | None:
        aliases = {DEFAULT_DB_ALIAS, REPLICA}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True  # one database, two connections to it
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool | None:
        return None  # a streaming replica is read-only: migrate runs on the primary only
