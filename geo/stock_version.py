"""The stock version: one number that changes whenever a committed change touches the public
housing stock, so public pages and tiles can use it as their cache key (ETag, Last-Modified).

Triggers on the stock tables (migrations geo 0005 and 0008) set one of a few counter rows to a
new sequence number once per writing transaction; the version is their sum, read in one tiny
query. It only grows, and never names two states (a rolled-back change's number is not
reused). Read it *before* the data a page shows: then a cached page can only be newer than its
version, never older.
"""

from dataclasses import dataclass
from datetime import datetime

from anju.db_router import read_connection

# Plus this transaction's own uncommitted changes after its first (see migration geo 0008).
STATE_SQL = (
    "SELECT coalesce(sum(version), 0)"
    " + coalesce(nullif(current_setting('anju.stock_changes', true), '')::bigint, 0),"
    " max(changed_at) FROM geo_stockversion"
)

# The tables whose changes alter a public page or tile; each has the bump trigger.
STOCK_TABLES = ("geo_region", "geo_operator", "geo_estate", "geo_building", "geo_unit", "geo_poi")


@dataclass(frozen=True)
class StockState:
    version: int
    changed_at: datetime | None


def state() -> StockState:
    """The version and the time of the last change (for Last-Modified), in one query."""
    with read_connection().cursor() as cursor:
        cursor.execute(STATE_SQL)
        version, changed_at = cursor.fetchone()
    return StockState(int(version), changed_at)


def current() -> int:
    """The stock version: cheap enough to call on every request."""
    return state().version
