"""Chinese resident ID numbers (GB 11643-1999): the check digit, the birth date, the region.

Checked with python-stdnum's `stdnum.cn.ric` (ASCII digits only, the check digit, a real
date) and its table of region codes. Its own place check ties the code to the birth year
(341602 only from 2000 on), which refuses real people: a number keeps the code its holder was
first registered under, and anyone born before 2000 who registered in 谯城区 later has 341602.
So the region must only name a real province (a county code may be newer than stdnum's table).
Kept free of Django so the demo data platform can use it too.
"""

import re
from datetime import date
from functools import cache

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
FORMAT = re.compile(r"[0-9]{17}[0-9X]")
# Residence permits of Hong Kong, Macao and Taiwan residents share the format (GB 11643 codes
# 81, 82, 83 are not administrative regions of the mainland).
PERMIT_PROVINCES = {"81", "82", "83"}


def _(message: str) -> str:
    """In the language of the request inside Django; as written in the demo data platform,
    which runs without Django set up (the messages are still found by makemessages)."""
    from django.apps import apps

    if not apps.ready:
        return message
    from django.utils.translation import gettext

    return gettext(message)


def check_digit(first17: str) -> str:
    """The 18th character that makes the number valid."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK[total % 11]


def birth_date(number: str) -> date | None:
    try:
        return ric.get_birth_date(number)
    except (ValueError, ValidationError):
        return None


@cache
def _provinces() -> frozenset[str]:
    from stdnum import numdb

    table = numdb.get("cn/loc")
    return frozenset(code for code in (f"{n:02d}" for n in range(100)) if table.info(code)[0][1])


def known_region(code: str) -> bool:
    """Does the six-digit code begin with a real province (or a 港澳台 permit code)?"""
    return code[:2] in PERMIT_PROVINCES or code[:2] in _provinces()


def validate_id_number(number: str) -> str | None:
    """None when valid, else the reason, in the request's language (shown next to the field).

    Only ASCII digits count: Python's str.isdigit() and int() also take "١٢٣" or "³", which
    would make two spellings of one person (and slip past the one-open-application rule).
    """
    number = (number or "").strip().upper()
    if len(number) != 18:
        return _("身份证号应为 18 位")
    if not number.isascii():
        return _("身份证号只能用半角数字 0–9 和 X，请检查输入法（不能用全角或其他文字的数字）")
    if not FORMAT.fullmatch(number):
        return _("身份证号前 17 位应为数字，最后一位为数字或 X")
    born = birth_date(number)
    if born is None or not (date(1900, 1, 1) <= born <= date.today()):
        return _("身份证号中的出生日期不正确")
    if not known_region(number[:6]):
        return _("身份证号前 6 位不是有效的地区代码")
    if ric.calc_check_digit(number) != number[17]:
        return _("身份证号校验位不正确，请核对")
    return None


def make_id_number(region: str, born: date, sequence: int) -> str:
    """A valid number for synthetic people: region code, birth date, sequence, check digit."""
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)
