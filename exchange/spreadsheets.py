"""Spreadsheet cells that cannot turn into formulas (OWASP "CSV injection").

A text cell starting with = + - @ (or a tab or carriage return) is run as a formula by Excel,
WPS and LibreOffice when a CSV or XLSX is opened. Every export writes its cells through
`neutralize`; every import refuses such text with `formula_problem`. Numbers stay numbers.
Kept free of Django and openpyxl so any app may use it.
"""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
FORMULA_MESSAGE = "不能以 = + - @ 开头（可能是表格公式）"


def is_formula_like(text: str) -> bool:
    """Would a spreadsheet read this text as a formula? Our own escape (a leading quote before
    such a character, as `neutralize` writes it) counts too, so an export cannot be re-imported
    with the quote kept as data."""
    return text.startswith(FORMULA_STARTS) or (
        text.startswith("'") and text[1:].startswith(FORMULA_STARTS)
    )


def neutralize(value: Any) -> Any:
    """The value as a spreadsheet cell that shows, never runs: text a spreadsheet would take for
    a formula gets a leading single quote; numbers (a negative one too), dates and None pass."""
    if isinstance(value, bool | int | float | Decimal) or not isinstance(value, str):
        return value
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def neutralize_row(values: Iterable[Any]) -> list[Any]:
    return [neutralize(v) for v in values]


def formula_problem(text: str) -> str | None:
    """The reason (in Chinese) an imported text cell is refused, or None."""
    return FORMULA_MESSAGE if is_formula_like(text) else None


def xlsx_text_cells(sheet, values: Iterable[Any]) -> list:
    """Cells for `sheet.append` (also in openpyxl's write-only mode): neutralized values, with
    every string stored as a string cell, never as a formula (data_type "s")."""
    from openpyxl.cell import WriteOnlyCell

    cells = []
    for value in neutralize_row(values):
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, str):
            cell.data_type = "s"
        cells.append(cell)
    return cells
