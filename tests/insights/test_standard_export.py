"""贯标导出 (issue 15 points 5 and 6): the demo city exports through data/standard/mapping.json
with every required field present and reads back to its source rows; a seeded bad record is
refused with its link to fix it; a county sees only its county; a wrong mapping file is named
in Chinese; the page costs a fixed number of queries and the tables leave only for staff with
the right to them."""

import csv
import io
import json
import zipfile
from datetime import datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from geo.models import Unit
from housing.models import Application, HouseholdMember
from insights.standard import mapping as standard_mapping
from insights.standard.datasets import DATASETS
from insights.standard.report import scan
from insights.standard.writers import Export

pytestmark = pytest.mark.django_db
SAMPLE = 5


@pytest.fixture(scope="module")
def mapping():
    return standard_mapping.load()


def _exported_json(mapping, user=None) -> dict:
    run = Export(mapping, mapping.tables(), user)
    document = json.loads("".join(run.json_chunks()))
    return {"run": run, "tables": {t["code"]: t for t in document["tables"]}}


def _as_source(field, mapping, cell):
    """The exported cell mapped back to what the source row holds (code tables reversed)."""
    if field.codes and mapping.code_tables[field.codes].ours:
        return {
            mine for mine, theirs in mapping.code_tables[field.codes].ours.items() if theirs == cell
        }
    return cell


def _same(field, mapping, cell, source) -> bool:
    if source is None or source == "":
        return cell is None
    if field.codes and mapping.code_tables[field.codes].ours:
        return str(source) in _as_source(field, mapping, cell)
    if field.type == "N":
        return Decimal(str(cell)) == Decimal(str(source))
    if field.type == "D":
        if isinstance(source, datetime):
            source = timezone.localtime(source).date()
        return cell == source.isoformat()
    return cell == str(source)


def test_demo_city_exports_every_row_with_every_required_field(mapping):
    out = _exported_json(mapping)
    assert out["run"].skipped and not any(out["run"].skipped.values()), out["run"].skipped
    for table in mapping.tables():
        exported = out["tables"][table.code]
        assert exported["fields"] == [f.code for f in table.fields]
        source_count = DATASETS[table.dataset].rows().count()
        assert source_count > 0, table.code  # the demo city has rows of every table
        assert len(exported["rows"]) == source_count, table.code
        required = [f.code for f in table.fields if f.required]
        for row in exported["rows"]:
            missing = [code for code in required if row.get(code) in (None, "")]
            assert not missing, (table.code, row, missing)


def test_export_round_trips_to_the_source_rows(mapping):
    tables = _exported_json(mapping)["tables"]
    for table in mapping.tables():
        model = DATASETS[table.dataset].model
        key = table.key
        plain = [f for f in table.fields if f.path and not f.extractor]
        rows = tables[table.code]["rows"]
        for row in rows[:: max(1, len(rows) // SAMPLE)][:SAMPLE]:
            source = (
                model._default_manager.filter(**{key.lookup: row[key.code]})
                .values(*{f.lookup for f in plain})
                .get()
            )
            for field in plain:
                assert _same(field, mapping, row[field.code], source[field.lookup]), (
                    table.code,
                    field.code,
                    row[field.code],
                    source[field.lookup],
                )


def test_csv_zip_holds_one_file_per_table_equal_to_the_json(mapping):
    tables = mapping.tables(["housing", "operations"])
    buffer = io.BytesIO()
    Export(mapping, tables).write_csv_zip(buffer)
    as_json = _exported_json(mapping)["tables"]
    with zipfile.ZipFile(buffer) as archive:
        assert set(archive.namelist()) == {"字段说明.csv"} | {f"{t.code}.csv" for t in tables}
        for table in tables:
            raw = archive.read(f"{table.code}.csv")
            assert raw.startswith("\ufeff".encode())  # Excel reads it as UTF-8
            read = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
            assert len(read) == len(as_json[table.code]["rows"])
            first = as_json[table.code]["rows"][0]
            assert read[0] == {k: "" if v is None else _text(v, table, k) for k, v in first.items()}


def _text(value, table, code) -> str:
    field = next(f for f in table.fields if f.code == code)
    if field.type == "N":
        return f"{Decimal(str(value)):.{field.scale}f}"
    return str(value)


@pytest.fixture
def seeded(cast):
    """Three records the standard refuses, in the district persona's county."""
    district = cast.inside["district"].district
    unit = Unit.objects.filter(building__estate__district=district).order_by("pk").first()
    Unit.objects.filter(pk=unit.pk).update(orientation="XX")  # not a code of 朝向
    member = HouseholdMember.objects.filter(household__county=district).order_by("pk").first()
    HouseholdMember.objects.filter(pk=member.pk).update(relation="77")  # not in GB/T 4761
    application = (
        Application.objects.filter(county=district).exclude(stage="draft").order_by("pk").first()
    )
    Application.objects.filter(pk=application.pk).update(submitted_at=None)  # required date
    return {
        ("FWXX", unit.pk, "CX", "code"): reverse("asset-unit", args=[unit.pk]),
        ("JTCYXX", member.pk, "YSQRGX", "code"): reverse(
            "review-detail", args=[member.household_id]
        ),
        ("SQRXX", application.pk, "SQRQ", "required"): reverse(
            "review-detail", args=[application.pk]
        ),
        "district": district,
    }


def test_seeded_bad_records_are_reported_with_their_link_and_not_exported(mapping, seeded):
    report = scan(mapping, mapping.tables(), keep=None)
    found = {(f.table, f.record_id, f.field, f.kind): f for f in report.kept}
    for key, link in seeded.items():
        if key == "district":
            continue
        assert key in found, key
        assert found[key].url() == link
        assert found[key].county == seeded["district"].name
    assert report.per_county[(seeded["district"].pk, seeded["district"].name)] >= 3
    tables = _exported_json(mapping)["tables"]
    bad_units = {k[1] for k in seeded if k != "district" and k[0] == "FWXX"}
    assert not bad_units & {int(r["FWBH"]) for r in tables["FWXX"]["rows"]}


def test_check_command_counts_per_county_and_fails(seeded):
    out = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("export_standard", "--check", stdout=out, verbosity=0)
    assert raised.value.returncode == 1
    text = out.getvalue()
    assert seeded["district"].name in text
    assert "代码值不在代码表" in text and "必填项为空" in text
    assert seeded[next(k for k in seeded if k != "district" and k[0] == "FWXX")] in text


def test_command_writes_each_format(tmp_path):
    call_command(
        "export_standard", "--format", "xlsx", "--output", str(tmp_path / "a.xlsx"), verbosity=0
    )
    call_command(
        "export_standard",
        "--format",
        "csv",
        "--group",
        "housing",
        "--output",
        str(tmp_path / "csv"),
        verbosity=0,
    )
    call_command(
        "export_standard",
        "--format",
        "json",
        "--county",
        "341621",
        "--output",
        str(tmp_path / "b.json"),
        verbosity=0,
    )
    from openpyxl import load_workbook

    book = load_workbook(tmp_path / "a.xlsx", read_only=True)
    assert "FWXX 房屋信息" in book.sheetnames
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == [
        "FWXX.csv",
        "FYXMXX.csv",
        "字段说明.csv",
    ]
    document = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    units = next(t for t in document["tables"] if t["code"] == "FWXX")["rows"]
    assert units and {r["XZQHDM"] for r in units} == {"341621"}


def test_a_county_user_downloads_only_their_county(client, cast):
    user = cast.users["district"]
    district = cast.inside["district"].district
    client.force_login(user)
    response = client.get(reverse("standard-export-download"), {"format": "json"})
    assert response.status_code == 200
    document = json.loads(b"".join(response.streaming_content))
    tables = {t["code"]: t["rows"] for t in document["tables"]}
    for code in ("SQRXX", "BZDXXX", "FYXMXX", "FWXX", "YY_HT", "BZGZ_ZRTJ"):
        assert tables[code], code
        assert {r["XZQHDM"] for r in tables[code]} == {district.adcode}, code
    assert len(tables["FWXX"]) == Unit.objects.filter(building__estate__district=district).count()
    assert client.get(reverse("standard-export-download"), {"county": "341621"}).status_code == 404


def test_tables_leave_only_for_staff_with_the_right(client, cast):
    url = reverse("standard-export-download")
    anonymous = client.get(url, {"format": "csv"})
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/staff/login/")
    assert client.get(reverse("standard-export")).status_code == 302
    client.force_login(cast.users["outsider"])
    assert client.get(url, {"format": "csv"}).status_code == 403
    client.force_login(cast.users["street"])  # sees the faults, not the full ID numbers
    assert client.get(url, {"format": "json"}).status_code == 403
    page = client.get(reverse("standard-export"))
    assert page.status_code == 200 and not page.context["may_download"]
    assert url not in page.content.decode()


def test_page_query_count_does_not_grow_with_faults(client, cast, seeded):
    client.force_login(cast.users["district"])
    url = reverse("standard-export")
    with CaptureQueriesContext(connection) as first:
        response = client.get(url)
    assert response.status_code == 200
    links = {link for _f, link in response.context["faults"]}
    assert {v for k, v in seeded.items() if k != "district"} <= links
    more = Unit.objects.filter(building__estate__district=seeded["district"]).order_by("pk")[1:6]
    Unit.objects.filter(pk__in=[u.pk for u in more]).update(orientation="ZZ")
    with CaptureQueriesContext(connection) as second:
        again = client.get(url)
    assert again.context["report"].total >= response.context["report"].total + 5
    assert len(second.captured_queries) == len(first.captured_queries)
    faults = client.get(reverse("standard-export-faults"))
    text = b"".join(faults.streaming_content).decode("utf-8-sig")
    assert text.count("\n") >= 1 + again.context["report"].total


def test_a_malformed_mapping_is_named_in_chinese(tmp_path):
    broken = tmp_path / "mapping.json"
    broken.write_text("{ not json", encoding="utf-8")
    with pytest.raises(standard_mapping.MappingError, match="不是有效的 JSON"):
        standard_mapping.load(broken)
    good = json.loads(standard_mapping.DEFAULT_PATH.read_text(encoding="utf-8"))
    units = good["groups"][3]["tables"][1]
    units["fields"][11]["type"] = "X"
    broken.write_text(json.dumps(good, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(standard_mapping.MappingError) as raised:
        standard_mapping.load(broken)
    message = str(raised.value)
    assert "房屋信息" in message and "建筑面积" in message and "类型" in message
    good["groups"][3]["tables"][1]["fields"][11] |= {"type": "N", "from": "building.nope"}
    broken.write_text(json.dumps(good, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CommandError, match="nope"):
        call_command("export_standard", "--check", "--mapping", str(broken), verbosity=0)
