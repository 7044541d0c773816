"""Downloads of a back-office list: CSV (UTF-8 with BOM, which Excel and WPS read as Chinese)
or XLSX, whose text cells cannot run as formulas (exchange.spreadsheets)."""

import csv
from collections.abc import Iterable
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone

from exchange.spreadsheets import neutralize_row, xlsx_text_cells

FORMATS = {"csv", "xlsx"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_download(fmt: str, name: str, header: list, rows: Iterable[list]) -> HttpResponse:
    """The rows as `name-YYYYMMDD.csv` or `.xlsx` (any format but csv gives XLSX)."""
    filename = f"{name}-{timezone.localdate():%Y%m%d}.{fmt}"
    if fmt == "csv":
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response.write("\ufeff")
        writer = csv.writer(response)
        writer.writerow(neutralize_row(header))
        for row in rows:
            writer.writerow(neutralize_row(row))
    else:
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(name[:31])
        sheet.append(xlsx_text_cells(sheet, header))
        for row in rows:
            sheet.append(xlsx_text_cells(sheet, row))
        response = HttpResponse(content_type=XLSX)
        book.save(response)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response
