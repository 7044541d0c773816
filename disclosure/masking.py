"""Masking personal data for publication: the only place that decides what the public sees.

张三丰 → 张*丰, 张三 → 张*, 340321199001011234 → 340321********1234, 13812345678 → 138****5678.
Columns of any other personal kind (income, health, exact address) are never published.
"""

import re

ID_PATTERN = re.compile(r"^\d{17}[\dXx]$|^\d{15}$")
MOBILE_PATTERN = re.compile(r"^1\d{10}$")

# Column kinds a publication may carry, and what each does to a value.
PUBLIC_KINDS = {"text", "number", "date", "name", "id_number", "phone", "region"}
FORBIDDEN_KINDS = {"income", "health", "disability_detail", "address", "household_address"}


def mask_name(name: str) -> str:
    """Keep the first and last characters of a name: 张*明, 张*, 欧阳**明 → 欧**明."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name[:1] + "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(number: str) -> str:
    """Resident ID: the first six (region) and the last four digits stay: 340321********1234."""
    number = (number or "").strip()
    if len(number) <= 10:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]


def mask_phone(phone: str) -> str:
    """Mobile and other numbers: the first three and last four digits stay: 138****5678."""
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) < 8:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


class UnsafeColumn(ValueError):
    """A column that must never be published, or of a kind we do not know."""


def mask_value(kind: str, value):
    if kind in FORBIDDEN_KINDS or kind not in PUBLIC_KINDS:
        raise UnsafeColumn(f"不能公开的字段类型：{kind}")
    if value is None:
        return None
    if kind == "name":
        return mask_name(str(value))
    if kind == "id_number":
        return mask_id_number(str(value))
    if kind == "phone":
        return mask_phone(str(value))
    if kind == "number":
        return value
    return str(value)


def mask_rows(columns: list[dict], rows: list[dict]) -> list[dict]:
    """Masked copies of the rows, keeping only the declared columns (and the row key)."""
    for column in columns:
        if column["kind"] in FORBIDDEN_KINDS or column["kind"] not in PUBLIC_KINDS:
            raise UnsafeColumn(
                f"不能公开的字段“{column.get('label', column['key'])}”（{column['kind']}）"
            )
    masked = []
    for row in rows:
        out = {"_key": str(row["_key"])}
        for column in columns:
            out[column["key"]] = mask_value(column["kind"], row.get(column["key"]))
        masked.append(out)
    return masked
