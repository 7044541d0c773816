"""What a resident reads on estate pages and the notices about them: the way to apply, rents as
people write them, buildings in natural order, a vacancy notice's estate, objections that name
each listed household once, and the hotline line of the footer."""

import re
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from disclosure.models import Kind, Publication
from disclosure.views import item_label
from geo import selectors
from geo.models import POI, Estate, Unit
from geo.ordering import natural_key
from geo.vacancy import VacancyQuery
from portal.templatetags.numbers import plain_number

pytestmark = pytest.mark.django_db

APPLY_LINK = 'href="/apply/login/?next=/apply/"'


def vacant_estate() -> Estate:
    return Estate.objects.published().filter(buildings__units__status="vacant").first()


def estate_with_building_ten() -> Estate:
    """An estate with vacancies in 10号楼 (or above) and in a lower-numbered building."""
    for estate in Estate.objects.published().order_by("pk"):
        numbers = set(
            Unit.objects.filter(building__estate=estate, status="vacant").values_list(
                "building__number", flat=True
            )
        )
        if any(n.startswith("1") and len(n) > 3 for n in numbers) and any(
            len(n) == 3 and n[0] in "23456789" for n in numbers
        ):
            return estate
    raise AssertionError("the demo city has an estate with ten buildings or more")


def test_estate_page_leads_to_self_check_and_online_application(client):
    html = client.get(reverse("estate-detail", args=[vacant_estate().pk])).content.decode()
    assert "在线申请开通后" not in html
    assert 'href="/self-check/"' in html
    assert APPLY_LINK in html  # through sign-in, back to the form


def test_rents_are_shown_as_people_write_them(client):
    estate = vacant_estate()
    units = list(Unit.objects.filter(building__estate=estate))
    html = client.get(reverse("estate-detail", args=[estate.pk])).content.decode()
    rents = [u.monthly_rent for u in units]
    assert f"{plain_number(min(rents))}–{plain_number(max(rents))} 元" in html
    for unit in (u for u in units if u.status == "vacant"):
        assert f">{plain_number(unit.monthly_rent)}</td>" in html
        assert f">{unit.monthly_rent}</td>" not in html  # never 530.00
    units_page = client.get(reverse("units")).content.decode()
    assert not re.search(r'data-unit=" 元">\d+\.0+<', units_page)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(Decimal("530.00"), "530"), (Decimal("530.50"), "530.5"), (530.0, "530"), (52.25, "52.25")],
)
def test_plain_numbers(value, shown):
    assert plain_number(value) == shown
    assert plain_number("2号楼") == "2号楼" and plain_number(None) is None


def test_buildings_are_in_natural_order_on_the_estate_page_and_the_unit_list(client):
    estate = estate_with_building_ten()
    html = client.get(reverse("estate-detail", args=[estate.pk])).content.decode()
    table = html.split('class="unit-list"')[1].split("</table>")[0]
    shown = re.findall(r'data-label="楼栋">([^<]+)</td>', table)
    assert len(set(shown)) > 2
    assert shown == sorted(shown, key=natural_key)  # 2号楼 … 9号楼 before 10号楼
    listed = [
        u.building.number
        for u in selectors.vacancy_units(VacancyQuery()).filter(building__estate=estate)
    ]
    assert listed == sorted(listed, key=natural_key)
    buildings = [b.number for b in estate.buildings.all()]
    assert buildings == sorted(buildings, key=natural_key)


def test_vacancy_notice_links_to_its_estate_and_to_applying(client):
    notice = Publication.objects.current().filter(kind=Kind.VACANCY_RELEASE).first()
    estate = Estate.objects.published().get(name=notice.title.split("空置房源发布")[0])
    html = client.get(reverse("notice", args=[notice.series_id])).content.decode()
    assert f'href="/estates/{estate.pk}/"' in html
    assert 'href="/self-check/"' in html and APPLY_LINK in html
    # Published numbers read as numbers: rents 530, not 530.0.
    table = html.split('<table class="items">')[1].split("</table>")[0]
    assert not re.search(r">\d+\.0<", table)
    rent = notice.items[0]["rent"]
    assert f">{plain_number(rent)}<" in table


def test_other_notices_name_no_estate(client):
    notice = Publication.objects.current().filter(kind=Kind.REVIEW_NOTICE).first()
    html = client.get(reverse("notice", args=[notice.series_id])).content.decode()
    assert 'href="/estates/' not in html


def test_objection_list_names_each_household_once_and_readably(client):
    notice = (
        Publication.objects.current()
        .filter(kind=Kind.REVIEW_NOTICE, period_ends_at__isnull=False)
        .first()
    )
    html = client.get(reverse("notice", args=[notice.series_id])).content.decode()
    select = html.split('name="item_key"')[1].split("</select>")[0]
    options = re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)</option>', select)
    assert options[0][0] == ""  # nobody is picked by accident
    row = notice.items[0]
    key, label = options[1]
    assert key == row["_key"]
    assert label.count(key) == 1
    assert label == f"{key} · {row['name']} · {row['community']}"


def test_item_label_skips_numbers_and_the_repeated_key():
    columns = [
        {"key": "key", "kind": "text"},
        {"key": "position", "kind": "number"},
        {"key": "name", "kind": "name"},
    ]
    row = {"_key": "A1", "key": "A1", "position": 3, "name": "张*"}
    assert item_label(row, columns) == "A1 · 张*"


def test_footer_says_the_demo_has_no_hotline(client, settings):
    settings.ANJU_HOTLINE = ""
    html = client.get("/").content.decode()
    footer = html.split('<footer class="site-footer">')[1]
    assert "演示站点未设置咨询电话（ANJU_HOTLINE）" in footer
    assert 'href="/contact/"' in footer
    settings.ANJU_HOTLINE = "0558-12345"
    footer = client.get("/").content.decode().split('<footer class="site-footer">')[1]
    assert 'href="tel:0558-12345"' in footer and "未设置" not in footer


def test_footer_without_hotline_or_demo_points_to_the_contact_page(client, settings, monkeypatch):
    settings.ANJU_HOTLINE = ""
    monkeypatch.setattr(selectors, "demo_data_present", lambda: False)
    footer = client.get("/").content.decode().split('<footer class="site-footer">')[1]
    assert "咨询电话" not in footer and "未设置" not in footer
    assert 'href="/contact/"' in footer


def test_estate_page_shows_the_nearest_pois_of_each_kind_and_counts_the_rest(client):
    estate = vacant_estate()
    x, y = estate.location.x, estate.location.y
    POI.objects.bulk_create(
        POI(
            category="bus_stop",
            name=f"测试站{i:02d}",
            location=Point(x + 0.00002 * i, y, srid=4326),
        )
        for i in range(1, 9)  # 8 stops, 2–15 m away
    )
    html = client.get(reverse("estate-detail", args=[estate.pk])).content.decode()
    shown = re.findall(r"测试站(\d\d)", html)
    assert shown == ["01", "02", "03", "04", "05"], "the five nearest, nearest first"
    bus = html.split("<dt>公交站</dt>")[1].split("</dd>")[0]
    assert re.search(r"另有 \d+ 处", bus), "how many more stops there are"
    assert len(re.findall(r"<li><span", bus)) == 5


def test_estate_page_shows_its_counts_and_ranges_from_the_summary(client):
    estate = vacant_estate()
    units = Unit.objects.filter(building__estate=estate)
    html = client.get(reverse("estate-detail", args=[estate.pk])).content.decode()
    vacant = units.filter(status="vacant").count()
    assert f"共 {units.count()} 套，空置 {vacant} 套" in html
    areas = sorted(u.area for u in units)
    assert f"{areas[0]}–{areas[-1]} ㎡" in html
