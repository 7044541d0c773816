"""Chinese resident ID numbers (GB 11643-1999): the check digit, the birth date, the region.

Kept free of Django so the demo data platform can use it too.
"""

from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def check_digit(first17: str) -> str:
    """The 18th character that makes the number valid."""
    total = sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True))
    return CHECK[total % 11]


def birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def validate_id_number(number: str) -> str | None:
    """None when valid, else the reason in Chinese (shown next to the field)."""
    number = (number or "").strip().upper()
    if len(number) != 18:
        return "身份证号应为 18 位"
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return "身份证号前 17 位应为数字，最后一位为数字或 X"
    born = birth_date(number)
    if born is None or not (date(1900, 1, 1) <= born <= date.today()):
        return "身份证号中的出生日期不正确"
    if check_digit(number[:17]) != number[17]:
        return "身份证号校验位不正确，请核对"
    return None


def make_id_number(region: str, born: date, sequence: int) -> str:
    """A valid number for synthetic people: region code, birth date, sequence, check digit."""
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + check_digit(first17)
