"""Natural order for labels with numbers, so 2号楼 comes before 10号楼, in SQL and in Python.

In SQL, plain expressions (the text before the first number, that number's value, the whole
label), not a database collation: nothing to create before a query can run.
"""

import re

from django.db.models import BigIntegerField, F, Func, Value
from django.db.models.expressions import Expression
from django.db.models.functions import Cast

_DIGITS = re.compile(r"(\d+)")


def _substring(field: str, pattern: str) -> Func:
    """PostgreSQL's substring(text, regex): the first match, or NULL."""
    return Func(F(field), Value(pattern), function="substring")


def natural(field: str) -> list[Expression]:
    """Order by a label's numbers' values: `order_by(*natural("building__number"))`."""
    return [
        _substring(field, r"^\D*"),
        # At most 18 digits fit a bigint; a label without a number sorts after those with one.
        Cast(_substring(field, r"\d{1,18}"), BigIntegerField()),
        F(field),
    ]


def natural_key(value: object) -> tuple:
    """A sort key for Python: runs of digits compare as numbers, the rest as text."""
    if value is None:
        return (1,)
    if isinstance(value, int | float):
        return (0, ((0, value, ""),))
    parts = _DIGITS.split(str(value))
    return (0, tuple((0, int(p), "") if p.isdecimal() else (1, 0, p) for p in parts if p))
