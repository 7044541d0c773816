"""Utility data: a monthly water/electricity file is checked row by row (malformed, duplicate,
unknown or out-of-jurisdiction units, months already imported: each named by its row) and
written all or nothing; idle detection lists exactly the units below both thresholds in every
month of the window (compared with a brute-force count on random data)."""

import csv
import random
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Q
from django.urls import reverse
from openpyxl import Workbook

from archive.models import Event
from geo.jurisdiction import estate_scope
from geo.models import Unit
from housing.errors import NotAllowed
from tenancy.models import UtilityReading
from tenancy.services import violations
from tenancy.utility_import import add_months, check, idle_rule, idle_units

HEADER = ["小区", "楼栋", "房号", "月份", "用水（吨）", "用电（度）"]


def place(unit: Unit) -> list[str]:
    return [unit.building.estate.name, unit.building.number, unit.number]


def write_csv(path: Path, rows: list[list]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture
def units(cast) -> list[Unit]:
    return list(
        Unit.objects.filter(building__estate=cast.inside["district"], utility_readings=None)
        .select_related("building__estate")
        .order_by("pk")[:3]
    )


@pytest.fixture
def clerk(cast):
    return cast.users["district"]


def test_a_clean_file_is_imported_in_one_go(tmp_path, units, clerk):
    rows = [[*place(u), f"2026-0{m}", "3.5", "120"] for u in units for m in (1, 2)]
    path = write_csv(tmp_path / "水电.csv", rows)
    plan = check(path, user=clerk)
    assert plan.ok and len(plan.rows) == 6
    assert violations.import_readings(path, filename="水电.csv", actor=clerk) == 6
    assert UtilityReading.objects.filter(unit__in=units).count() == 6
    assert Event.objects.filter(action="utility.imported", after__file="水电.csv").exists()
    with pytest.raises(NotAllowed, match="已导入过"):
        violations.import_readings(path, filename="水电.csv", actor=clerk)
    assert UtilityReading.objects.filter(unit__in=units).count() == 6


def test_bad_rows_are_named_and_nothing_is_written(tmp_path, units, clerk, cast):
    away = Unit.objects.filter(building__estate=cast.outside).select_related("building__estate")[0]
    a, b = units[0], units[1]
    rows = [
        [*place(a), "2026-03", "2", "50"],  # row 2: fine
        [*place(b), "2026-13", "2", "50"],  # row 3: bad month
        [*place(b), "2026-03", "-1", "50"],  # row 4: negative
        [*place(b), "2026-04", "两吨", "50"],  # row 5: not a number
        [*place(a), "2026-03", "2", "50"],  # row 6: duplicate of row 2
        [a.building.estate.name, "99号楼", "101", "2026-03", "1", "1"],  # row 7: unknown unit
        [*place(away), "2026-03", "1", "1"],  # row 8: another county's unit
        ["", "", "", "", "", ""],  # blank: skipped
        ["=cmd()", "1", "1", "2026-03", "1", "1"],  # row 10: a formula
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    plan = check(path, user=clerk)
    problems = {r.row: "；".join(r.problems) for r in plan.problems}
    assert set(problems) == {3, 4, 5, 6, 7, 8, 10}
    assert "月份" in problems[3] and "用水" in problems[4] and "不是数字" in problems[5]
    assert "与第 2 行重复" in problems[6]
    assert "找不到房屋" in problems[7] and "管辖范围" in problems[8]
    with pytest.raises(NotAllowed, match="未导入任何数据"):
        violations.import_readings(path, filename="bad.csv", actor=clerk)
    assert not UtilityReading.objects.filter(month=date(2026, 3, 1)).exists()


def test_an_xlsx_file_and_a_missing_column(tmp_path, units, clerk):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    sheet.append([*place(units[0]), date(2026, 5, 1), 0.5, 3])
    book.save(tmp_path / "w.xlsx")
    plan = check(tmp_path / "w.xlsx", user=clerk)
    assert plan.ok and plan.rows[0].month == date(2026, 5, 1)
    with (tmp_path / "short.csv").open("w", encoding="utf-8") as out:
        out.write("小区,楼栋,房号,月份\n")
    from tenancy.utility_import import UtilityFileError

    with pytest.raises(UtilityFileError, match="用水（吨）、用电（度）"):
        check(tmp_path / "short.csv", user=clerk)


def test_idle_detection_matches_a_brute_force_count(db, cast):
    rng = random.Random(13)
    pool = list(Unit.objects.filter(utility_readings=None).order_by("pk")[:60])
    months = [date(2026, m, 1) for m in range(1, 10)]
    rows = []
    for unit in pool:
        style = rng.choice(["idle", "idle", "busy", "gap", "one_high", "mixed"])
        for month in months:
            if style == "gap" and month == months[6]:
                continue
            water, power = Decimal("0.2"), Decimal("4")
            if style == "busy" or (style == "mixed" and rng.random() < 0.3):
                water, power = Decimal("6"), Decimal("150")
            if style == "one_high" and month == months[5]:
                power = Decimal("10")  # exactly the threshold is not below it
            rows.append(
                UtilityReading(unit=unit, month=month, water_m3=water, electricity_kwh=power)
            )
    UtilityReading.objects.bulk_create(rows)
    rule = idle_rule()
    assert rule == {"months": 6, "water": Decimal("1"), "electricity": Decimal("10")}
    for last in months[5:]:
        first = add_months(last, -5)
        expected = set()
        for unit in pool:
            window = [r for r in rows if r.unit_id == unit.pk and first <= r.month <= last]
            if len(window) == 6 and all(
                r.water_m3 < rule["water"] and r.electricity_kwh < rule["electricity"]
                for r in window
            ):
                expected.add(unit.pk)
        scope = estate_scope(cast.users["city"], "unit__building__estate__")
        found = {row["unit_id"] for row in idle_units(scope & Q(unit__in=pool), last)}
        assert found == expected
        assert expected  # the random data does flag some units


def test_the_import_pages_preview_then_commit(client, tmp_path, units, clerk, cast):
    client.force_login(cast.users["community"])
    assert client.get(reverse("violation-utility-import")).status_code == 403
    client.force_login(clerk)
    rows = [
        [*place(units[0]), add_months(date(2026, 1, 1), m).strftime("%Y-%m"), "0", "1"]
        for m in range(6)
    ]
    path = write_csv(tmp_path / "idle.csv", rows)
    with path.open("rb") as upload:
        preview = client.post(reverse("violation-utility-import"), {"file": upload})
    assert preview.context["plan"].ok and not UtilityReading.objects.filter(unit=units[0]).exists()
    token = preview.context["token"]
    done = client.post(
        reverse("violation-utility-commit"), {"token": token, "filename": "idle.csv"}
    )
    assert done["Location"] == reverse("violation-idle")
    assert UtilityReading.objects.filter(unit=units[0]).count() == 6
    page = client.get(reverse("violation-idle"), {"month": "2026-06"})
    assert units[0].pk in {r["unit"].pk for r in page.context["rows"]}
