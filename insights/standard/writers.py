"""Stream standard tables out as CSV (UTF-8 with BOM, one file per table, zipped when there are
several), one JSON document, or XLSX (one sheet per table, openpyxl's write-only mode).

Every writer pulls rows one at a time from insights.standard.records, so memory stays flat
whatever the number of units; only the XLSX needs a file (a zip) to be written to.

The JSON document: {"standard": …, "mapping_version": …, "exported_at": …, "tables": [
{"code", "name", "group", "fields": [codes…], "rows": [{code: value…}, …]}, …]} — a single
valid document written piece by piece (not JSON Lines); numbers are JSON numbers, empty
values null.
"""

import csv
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from typing import IO

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from exchange.spreadsheets import neutralize_row, xlsx_text_cells
from insights.standard.mapping import Mapping, Table
from insights.standard.records import Converter, Fault, records

FLUSH = 1000
FORMATS = ("xlsx", "csv", "json")


def _text(value) -> str:
    return "" if value is None else str(value)


class Export:
    """One export run: which tables, whose jurisdiction, what happened (rows out, faults)."""

    def __init__(
        self,
        mapping: Mapping,
        tables: list[Table],
        user: AbstractBaseUser | None = None,
        county: int | None = None,
        on_fault: Callable[[Fault], None] | None = None,
        progress: Callable[[Table], Callable[[], None]] | None = None,
    ):
        self.mapping, self.tables, self.user, self.county = mapping, tables, user, county
        self.converter = Converter(mapping)
        self.exported: dict[str, int] = {}
        self.skipped: dict[str, int] = {}
        self._on_fault, self._progress = on_fault, progress

    def rows(self, table: Table) -> Iterator[list]:
        self.exported[table.code] = 0
        self.skipped[table.code] = 0
        bad: set[int] = set()
        tick = self._progress(table) if self._progress else None

        def fault(f: Fault) -> None:
            if f.record_id not in bad:
                bad.add(f.record_id)
                self.skipped[table.code] += 1
                if tick:
                    tick()
            if self._on_fault:
                self._on_fault(f)

        for cells in records(
            self.mapping, table, fault, self.user, self.county, converter=self.converter
        ):
            self.exported[table.code] += 1
            if tick:
                tick()
            yield cells

    # --- CSV ----------------------------------------------------------------------------------

    def csv_chunks(self, table: Table) -> Iterator[str]:
        """One table as CSV text in chunks (for a streaming response or a file)."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([f.code for f in table.fields])
        for n, cells in enumerate(self.rows(table), start=1):
            writer.writerow([_text(c) for c in neutralize_row(cells)])
            if n % FLUSH == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()

    def write_csv_zip(self, target: IO[bytes]) -> None:
        """Every table as <code>.csv in one zip (plus 字段说明.csv describing the fields)."""
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            with archive.open("字段说明.csv", "w") as raw:
                raw.write("".join(self.fields_csv()).encode("utf-8"))
            for table in self.tables:
                with archive.open(f"{table.code}.csv", "w", force_zip64=True) as raw:
                    for chunk in self.csv_chunks(table):
                        raw.write(chunk.encode("utf-8"))

    def fields_csv(self) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        for row in self.field_rows():
            writer.writerow(neutralize_row(row))
        yield buffer.getvalue()

    def field_rows(self) -> Iterable[list]:
        yield ["表代码", "表名", "字段代码", "字段名", "类型", "长度", "小数位", "必填", "代码表"]
        for t in self.tables:
            for f in t.fields:
                codes = self.mapping.code_tables[f.codes].name if f.codes else ""
                yield [
                    t.code,
                    t.name,
                    f.code,
                    f.name,
                    f.type,
                    f.length or "",
                    f.scale or "",
                    "是" if f.required else "否",
                    codes,
                ]

    # --- JSON ---------------------------------------------------------------------------------

    def json_chunks(self) -> Iterator[str]:
        head = {
            "standard": self.mapping.standard.get("name", ""),
            "mapping_version": self.mapping.version,
            "exported_at": timezone.localtime().isoformat(timespec="seconds"),
        }
        yield json.dumps(head, ensure_ascii=False)[:-1] + ', "tables": ['
        for ti, table in enumerate(self.tables):
            about = {
                "code": table.code,
                "name": table.name,
                "group": table.group,
                "fields": [f.code for f in table.fields],
            }
            yield ("," if ti else "") + "\n" + json.dumps(about, ensure_ascii=False)[:-1]
            yield ', "rows": ['
            parts: list[str] = []
            codes = [json.dumps(f.code) for f in table.fields]
            for n, cells in enumerate(self.rows(table)):
                pairs = ", ".join(f"{k}: {_json(c)}" for k, c in zip(codes, cells, strict=True))
                parts.append(("," if n else "") + "\n{" + pairs + "}")
                if len(parts) >= FLUSH:
                    yield "".join(parts)
                    parts = []
            yield "".join(parts) + "\n]}"
        yield "\n]}\n"

    # --- XLSX ---------------------------------------------------------------------------------

    def write_xlsx(self, target: IO[bytes]) -> None:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        about = book.create_sheet("字段说明")
        for row in self.field_rows():
            about.append(xlsx_text_cells(about, row))
        for table in self.tables:
            sheet = book.create_sheet(f"{table.code} {table.name}"[:31])
            sheet.append(xlsx_text_cells(sheet, [f.code for f in table.fields]))
            for cells in self.rows(table):
                sheet.append(xlsx_text_cells(sheet, cells))
        book.save(target)


def _json(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False)
