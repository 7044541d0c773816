"""水电数据: reading a utility company's monthly water/electricity file (CSV or XLSX) into
checked rows, and finding the units whose use stayed near zero for months on end.

A file is checked in full before anything is written (tenancy.services.violations.import_readings
writes it, all rows or none): every problem names its row. A unit is named by its estate, building
and unit number as the stock lists them. Units flagged as possibly idle are listed for staff, who
open 闲置 cases from the list: a person looks first (a long hospital stay is not a violation), so
no job opens them on its own.
"""

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.db.models import Count, Max, Q

from exchange.spreadsheets import formula_problem
from geo.models import Unit

MAX_ROWS = 50_000
SUFFIXES = (".csv", ".xlsx")
COLUMNS = {
    "estate": ("小区", "项目", "小区名称", "项目名称", "estate"),
    "building": ("楼栋", "楼号", "building"),
    "unit": ("房号", "房屋", "室号", "unit"),
    "month": ("月份", "账期", "抄表月份", "month"),
    "water": ("用水（吨）", "用水(吨)", "用水量", "用水", "water"),
    "electricity": ("用电（度）", "用电(度)", "用电量", "用电", "electricity"),
}
LABELS = {
    "estate": "小区",
    "building": "楼栋",
    "unit": "房号",
    "month": "月份",
    "water": "用水（吨）",
    "electricity": "用电（度）",
}
TOP = Decimal("9999999")


class UtilityFileError(ValueError):
    """The file as a whole cannot be read; the message says why, in Chinese."""


@dataclass
class ReadingRow:
    row: int
    key: tuple[str, str, str]  # estate name, building number, unit number
    unit_id: int | None = None
    month: date | None = None
    water: Decimal | None = None
    electricity: Decimal | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def place(self) -> str:
        return " ".join(self.key)


@dataclass
class ReadingPlan:
    rows: list[ReadingRow]

    @property
    def problems(self) -> list[ReadingRow]:
        return [r for r in self.rows if r.problems]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.problems

    @property
    def months(self) -> list[date]:
        return sorted({r.month for r in self.rows if r.month})


def _norm(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _table(path: Path) -> list[tuple[int, list]]:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise UtilityFileError("请上传 CSV 或 XLSX 格式的水电数据文件。")
    if suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise UtilityFileError("CSV 文件的编码无法识别，请另存为 UTF-8 或 GBK 编码。")
        reader = csv.reader(io.StringIO(text))
        try:
            return [(reader.line_num, row) for row in reader]
        except csv.Error as exc:
            raise UtilityFileError(f"CSV 文件格式有误（第 {reader.line_num} 行）。") from exc
    from openpyxl import load_workbook

    from geo.stock_import import StockFileError, check_archive

    try:
        check_archive(path)
    except StockFileError as exc:
        raise UtilityFileError(str(exc)) from exc
    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl reports a broken file in many ways
        raise UtilityFileError("XLSX 文件无法读取，文件可能已损坏。") from exc
    try:
        rows = []
        for number, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
            if number > MAX_ROWS + 2:
                raise UtilityFileError(f"文件超过 {MAX_ROWS} 行，请按月份拆分后分批导入。")
            rows.append((number, list(values)))
        return rows
    finally:
        book.close()


def _header(values: list) -> dict[str, int]:
    names = [_norm(v).lower() for v in values]
    columns = {}
    for key, aliases in COLUMNS.items():
        for alias in aliases:
            alias = unicodedata.normalize("NFKC", alias).lower()
            if alias in names:
                columns[key] = names.index(alias)
                break
    missing = [LABELS[k] for k in COLUMNS if k not in columns]
    if missing:
        raise UtilityFileError(f"第 1 行（表头）缺少以下列：{'、'.join(missing)}。")
    return columns


def _month(value) -> date | None:
    if isinstance(value, datetime | date):
        return date(value.year, value.month, 1)
    text = _norm(value).replace("年", "-").replace("月", "").replace("/", "-").replace(".", "-")
    if len(text) == 6 and text.isdigit():
        text = f"{text[:4]}-{text[4:]}"
    try:
        year, month = text.split("-")[:2]
        if len(year) == 4 and 1 <= int(month) <= 12 and int(year) >= 2000:
            return date(int(year), int(month), 1)
    except ValueError:
        pass
    return None


def _amount(value, label: str, problems: list[str]) -> Decimal | None:
    text = _norm(value).replace(",", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        problems.append(f"{label}不是数字（{text[:20] or '空'}）")
        return None
    if not amount.is_finite() or amount < 0 or amount > TOP:
        problems.append(f"{label}应为 0 或正数")
        return None
    return amount.quantize(Decimal("0.01"))


def check(path: Path, *, user) -> ReadingPlan:
    """Every data row, matched to a unit in the user's jurisdiction, with its problems."""
    table = _table(path)
    if not table:
        raise UtilityFileError("文件是空的。")
    columns = _header(table[0][1])
    rows: list[ReadingRow] = []
    for number, values in table[1:]:
        if all(_norm(v) == "" for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise UtilityFileError(f"文件超过 {MAX_ROWS} 行，请按月份拆分后分批导入。")

        def cell(key: str, values=values):
            index = columns[key]
            return values[index] if index < len(values) else None

        estate, building, unit = (_norm(cell(k)) for k in ("estate", "building", "unit"))
        row = ReadingRow(row=number, key=(estate, building, unit))
        for key, text in (("estate", estate), ("building", building), ("unit", unit)):
            if not text:
                row.problems.append(f"{LABELS[key]}为空")
            elif formula_problem(text):
                row.problems.append(f"{LABELS[key]}{formula_problem(text)}")
        row.month = _month(cell("month"))
        if row.month is None:
            row.problems.append(
                f"月份无法识别（{_norm(cell('month'))[:20] or '空'}），请写作 2026-05"
            )
        row.water = _amount(cell("water"), "用水", row.problems)
        row.electricity = _amount(cell("electricity"), "用电", row.problems)
        rows.append(row)
    if not rows:
        raise UtilityFileError("表头之后没有数据行。")
    _match_units(rows, user)
    _flag_duplicates(rows)
    return ReadingPlan(rows)


def _match_units(rows: list[ReadingRow], user) -> None:
    from geo.jurisdiction import estate_scope

    estates = {r.key[0] for r in rows if not r.problems}
    known = {
        (e, b, n): pk
        for pk, e, b, n in Unit.objects.filter(
            estate_scope(user, "building__estate__"), building__estate__name__in=estates
        ).values_list("pk", "building__estate__name", "building__number", "number")
    }
    for r in rows:
        if r.problems:
            continue
        r.unit_id = known.get(r.key)
        if r.unit_id is None:
            r.problems.append(f"找不到房屋“{r.place}”（或不在您的管辖范围内）")


def _flag_duplicates(rows: list[ReadingRow]) -> None:
    from tenancy.models import UtilityReading

    seen: dict[tuple, int] = {}
    for r in rows:
        if r.unit_id is None or r.month is None:
            continue
        key = (r.unit_id, r.month)
        if key in seen:
            r.problems.append(f"与第 {seen[key]} 行重复（同一房屋同一月份）")
        else:
            seen[key] = r.row
    stored = set(
        UtilityReading.objects.filter(
            unit_id__in={k[0] for k in seen}, month__in={k[1] for k in seen}
        ).values_list("unit_id", "month")
    )
    for r in rows:
        if (r.unit_id, r.month) in stored and not r.problems:
            r.problems.append(f"{r.month:%Y-%m} 的读数已导入过")


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def idle_rule(rule: dict | None = None) -> dict:
    """The thresholds of near-zero use, from the 闲置 kind's data (editable in the admin);
    `rule` is that data when the caller has it already."""
    from tenancy.models import ViolationKind

    if rule is None:
        rule = ViolationKind.objects.filter(code="idle").values_list("rule", flat=True).first()
    rule = rule or {}
    return {
        "months": int(rule.get("months", 6)),
        "water": Decimal(str(rule.get("water_m3_below", "1"))),
        "electricity": Decimal(str(rule.get("electricity_kwh_below", "10"))),
    }


def latest_month(scope: Q) -> date | None:
    from tenancy.models import UtilityReading

    return UtilityReading.objects.filter(scope).aggregate(last=Max("month"))["last"]


def idle_unit_ids(scope: Q, last: date, rule: dict | None = None):
    """The ids (a subquery) of units, within `scope` on readings, below both thresholds in
    every one of the `months` months ending with `last`: a missing month breaks the run, so only
    measured idleness counts (readings are unique per unit and month)."""
    from tenancy.models import UtilityReading

    rule = rule or idle_rule()
    first = add_months(last, 1 - rule["months"])
    low = Q(water_m3__lt=rule["water"], electricity_kwh__lt=rule["electricity"])
    return (
        UtilityReading.objects.filter(scope, month__gte=first, month__lte=last)
        .values("unit_id")
        .annotate(low=Count("pk", filter=low))
        .filter(low=rule["months"])
        .order_by()
        .values("unit_id")
    )


def idle_units(scope: Q, last: date, rule: dict | None = None) -> list[dict]:
    """The same units as rows {"unit_id": …}, in id order."""
    return list(idle_unit_ids(scope, last, rule).order_by("unit_id"))
