"""Yearly case numbers (SQ2026-000001, HT2026-000001): the next one under an advisory lock, so
concurrent transactions take turns instead of colliding on the unique number."""

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone


def next_yearly_number(rows: QuerySet, field: str, prefix: str, lock: int) -> str:
    """The number after the year's highest `field` in `rows`; call inside a transaction."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock])
    year = timezone.localdate().year
    last = (
        rows.filter(**{f"{field}__startswith": f"{prefix}{year}-"})
        .order_by(f"-{field}")
        .values_list(field, flat=True)
        .first()
    )
    return f"{prefix}{year}-{int(last.split('-')[1]) + 1 if last else 1:06d}"
