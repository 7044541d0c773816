"""Reading a bank statement (CSV or XLSX) into rows: each with its row number in the file and,
where a cell cannot be read, a problem in Chinese. Nothing here touches the database; matching
the rows to bills is tenancy.services.payments' job.

Banks export in many shapes: a title block above the header, GB18030 text, amounts written
"1,234.50" or "¥650.00", dates as 2026-11-05, 2026/11/05, 20261105 or a spreadsheet date. The
header row is found by its column names (several names are accepted for each column).
"""

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from exchange.spreadsheets import formula_problem

MAX_ROWS = 20_000
HEADER_SEARCH_ROWS = 20
COLUMNS = {
    "reference": (
        "缴费编号",
        "账单编号",
        "缴费参考号",
        "附言",
        "摘要",
        "用途",
        "备注",
        "reference",
    ),
    "amount": ("金额", "交易金额", "收入金额", "贷方金额", "入账金额", "amount"),
    "paid_on": ("交易日期", "日期", "入账日期", "记账日期", "交易时间", "date"),
    "bank_reference": (
        "银行流水号",
        "交易流水号",
        "流水号",
        "交易参考号",
        "凭证号",
        "bank_reference",
    ),
}
LABELS = {
    "reference": "缴费编号",
    "amount": "金额",
    "paid_on": "交易日期",
    "bank_reference": "流水号",
}
SUFFIXES = (".csv", ".xlsx")
# A bill reference inside free text (附言 "房租 HT2026-000123-202611"): letters and digits
# joined by hyphens.
TOKEN = re.compile(r"[A-Z0-9]+(?:-[A-Z0-9]+)+")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")


class StatementFileError(ValueError):
    """The file as a whole cannot be read; the message says why, in Chinese."""


@dataclass
class StatementRow:
    row: int  # the row number a spreadsheet shows
    reference_text: str
    amount: Decimal | None
    paid_on: date | None
    bank_reference: str
    problems: list[str] = field(default_factory=list)

    @property
    def candidates(self) -> list[str]:
        """The bill references this row may mean: the whole cell, then each token in it."""
        text = normalise(self.reference_text)
        compact = re.sub(r"\s+", "", text)
        found = [compact] if compact else []
        return found + [t for t in TOKEN.findall(text) if t != compact]


def normalise(text: str) -> str:
    """Full-width letters and digits (a bank's 附言 often has them) to ASCII, upper case."""
    return unicodedata.normalize("NFKC", text).strip().upper()


def read_statement(path: Path, *, today: date) -> list[StatementRow]:
    """The statement's data rows; raises StatementFileError when no row can be trusted."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise StatementFileError("请上传 CSV 或 XLSX 格式的银行对账单。")
    table = _csv_rows(path) if suffix == ".csv" else _xlsx_rows(path)
    header_at, columns = _find_header(table)
    rows = []
    for number, values in table[header_at + 1 :]:
        if all(_blank(v) for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise StatementFileError(f"对账单超过 {MAX_ROWS} 行，请按日期拆分后分批导入。")
        rows.append(_row(number, values, columns, today))
    if not rows:
        raise StatementFileError("对账单在表头之后没有数据行。")
    return rows


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _csv_rows(path: Path) -> list[tuple[int, list]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise StatementFileError("CSV 文件的编码无法识别，请另存为 UTF-8 或 GBK 编码。")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        return [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise StatementFileError(f"CSV 文件格式有误（第 {reader.line_num} 行：{exc}）。") from exc


def _xlsx_rows(path: Path) -> list[tuple[int, list]]:
    from openpyxl import load_workbook

    from geo.stock_import import StockFileError, check_archive

    try:
        check_archive(path)  # a few kilobytes may unzip to gigabytes
    except StockFileError as exc:
        raise StatementFileError(str(exc)) from exc
    try:
        # Formulas are read as written (never their cached results), so they are refused.
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl reports a broken file in many ways
        raise StatementFileError("XLSX 文件无法读取，文件可能已损坏。") from exc
    try:
        sheet = book.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            rows.append((number, list(values)))
            if number > MAX_ROWS + HEADER_SEARCH_ROWS + 1:
                raise StatementFileError(f"对账单超过 {MAX_ROWS} 行，请按日期拆分后分批导入。")
        return rows
    finally:
        book.close()


def _find_header(table: list[tuple[int, list]]) -> tuple[int, dict[str, int]]:
    """The first row (among the first few) that names every column we need; else the columns
    the likeliest row lacks are named."""
    best: dict[str, int] = {}
    for index, (_number, values) in enumerate(table[:HEADER_SEARCH_ROWS]):
        names = [normalise(str(v)) if v is not None else "" for v in values]
        columns = {}
        for key, aliases in COLUMNS.items():
            for alias in aliases:
                if normalise(alias) in names:
                    columns[key] = names.index(normalise(alias))
                    break
        if len(columns) == len(COLUMNS):
            return index, columns
        if len(columns) > len(best):
            best = columns
    missing = "、".join(
        f"{LABELS[key]}（可写作：{'/'.join(COLUMNS[key][:3])}）"
        for key in COLUMNS
        if key not in best
    )
    raise StatementFileError(f"对账单的表头缺少以下列：{missing}。")


def _cell(values: list, index: int):
    return values[index] if index < len(values) else None


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a flow number stored as a number
    return str(value).strip()


def _row(number: int, values: list, columns: dict[str, int], today: date) -> StatementRow:
    problems = []
    texts = {}
    for key in ("reference", "bank_reference"):
        texts[key] = _text(_cell(values, columns[key]))
        problem = formula_problem(texts[key])
        if problem:
            problems.append(f"{LABELS[key]}{problem}")
    if not texts["reference"]:
        problems.append("缴费编号为空")
    if not texts["bank_reference"]:
        problems.append("流水号为空（用于防止同一笔款项重复导入）")
    elif len(texts["bank_reference"]) > 64:
        problems.append("流水号超过 64 个字符")
    amount, problem = parse_amount(_cell(values, columns["amount"]))
    if problem:
        problems.append(problem)
    paid_on, problem = parse_date(_cell(values, columns["paid_on"]), today)
    if problem:
        problems.append(problem)
    return StatementRow(
        row=number,
        reference_text=texts["reference"],
        amount=amount,
        paid_on=paid_on,
        bank_reference=texts["bank_reference"],
        problems=problems,
    )


def parse_amount(value) -> tuple[Decimal | None, str | None]:
    """An amount in yuan, positive, to the fen."""
    if _blank(value):
        return None, "金额为空"
    if isinstance(value, bool):
        return None, f"金额不是数字：{value}"
    text = str(value).strip()
    if isinstance(value, str):
        text = normalise(text)
        for mark in (",", "¥", "￥", "元", "RMB", "CNY", " "):
            text = text.replace(mark, "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None, f"金额不是数字：{str(value)[:20]}"
    if not amount.is_finite():
        return None, f"金额不是数字：{str(value)[:20]}"
    if amount <= 0:
        return None, f"金额须大于 0（支出或冲正记录无需导入）：{str(value)[:20]}"
    if amount != amount.quantize(Decimal("0.01")):
        return None, f"金额最多两位小数：{str(value)[:20]}"
    if amount >= Decimal("10000000"):
        return None, f"金额过大：{str(value)[:20]}"
    return amount.quantize(Decimal("0.01")), None


def parse_date(value, today: date) -> tuple[date | None, str | None]:
    """A day, not in the future; a time after it (交易时间) is ignored."""
    if _blank(value):
        return None, "交易日期为空"
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    else:
        text = normalise(str(value)).split(" ")[0].split("T")[0]
        day = None
        for fmt in DATE_FORMATS:
            try:
                day = datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
        if day is None:
            return None, f"交易日期无法识别（应如 2026-11-05）：{str(value)[:20]}"
    if day > today:
        return None, f"交易日期晚于今天：{day:%Y-%m-%d}"
    if day.year < 2000:
        return None, f"交易日期有误：{day:%Y-%m-%d}"
    return day, None
