"""Rate limits: one atomic counter per action and subject (a phone, an address, an applicant).

Not django-ratelimit on Django's database cache: that cache has no atomic increment (its incr
is a get followed by a set), so parallel requests lose counts and slip past a limit, which
django-ratelimit's documentation and its own system check (E003) say. Here a single
INSERT ... ON CONFLICT DO UPDATE ... RETURNING counts and answers at once; the row lock makes
concurrent hits on one key take turns, so exactly `limit` of them are allowed.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db import connections, router
from django.utils import timezone
from django.utils.crypto import salted_hmac

from archive.models import RateCounter


@dataclass(frozen=True)
class Rate:
    """At most `limit` uses per `seconds` for each subject; a window opens at its first use."""

    scope: str
    limit: int
    seconds: int


_TABLE = RateCounter._meta.db_table
_HIT = f"""
INSERT INTO {_TABLE} AS c (key, count, expires_at)
VALUES (%(key)s, 1, statement_timestamp() + %(period)s)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN c.expires_at <= statement_timestamp() THEN 1 ELSE c.count + 1 END,
    expires_at = CASE WHEN c.expires_at <= statement_timestamp()
        THEN statement_timestamp() + %(period)s ELSE c.expires_at END
RETURNING count
"""


def key_for(rate: Rate, subject: object) -> str:
    """The counter's key: the scope in clear, the subject (phone, address) only as a keyed hash."""
    digest = salted_hmac(f"anju.ratelimit.{rate.scope}", str(subject), algorithm="sha256")
    return f"{rate.scope}:{digest.hexdigest()[:40]}"


def hit(rate: Rate, subject: object) -> bool:
    """Count one use by `subject`; True while the window's count is within the limit.

    Refused uses are counted too (hammering a closed door keeps it closed). With no subject
    (a request whose address is unknown) there is nothing to count and the use is allowed.
    """
    if subject is None or subject == "":
        return True
    connection = connections[router.db_for_write(RateCounter)]
    with connection.cursor() as cursor:
        cursor.execute(
            _HIT, {"key": key_for(rate, subject), "period": timedelta(seconds=rate.seconds)}
        )
        (count,) = cursor.fetchone()
    return count <= rate.limit


def purge_expired() -> int:
    """Drop counters whose window has closed (archive/tasks.py runs it hourly)."""
    deleted, _ = RateCounter.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
