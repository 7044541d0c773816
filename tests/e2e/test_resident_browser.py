"""In Chromium at 375 px: a resident signs in with a code, sees the form filled in from the
departments' data, applies, and later finds the case's progress."""

import pytest
from playwright.sync_api import sync_playwright

from exchange.synthetic import record
from geo.models import Region
from housing.models import Application
from tests.e2e.sign_in import sign_in_resident
from tests.e2e.test_map_browser import CHROMIUM_ARGS
from tests.housing.test_review_path import eligible_person

pytestmark = pytest.mark.browser
PHONE = "13655550001"


@pytest.fixture(scope="module")
def resident(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        name, number = eligible_person(500)
        county = Region.objects.get(adcode="341602")
        street = Region.objects.filter(parent=county).order_by("adcode").first()
        community = Region.objects.filter(parent=street).order_by("adcode").first()
        return name, number, county, street, community


def test_resident_applies_on_a_phone_and_follows_the_case(site_url, resident, django_db_blocker):
    name, number, county, street, community = resident
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 800})
        outside = []
        page.on("request", lambda r: r.url.startswith(site_url) or outside.append(r.url))

        sign_in_resident(browser, page, site_url, PHONE)

        page.click("text=开始申请")
        page.locator("#id_name").wait_for()
        page.fill("#id_name", name)
        page.fill("#id_id_number", number)
        page.click("text=查询部门数据，自动填写家庭信息")
        page.wait_for_load_state()
        assert "已从公安户籍读取家庭成员" in page.content()
        assert page.input_value("#id_m-0-name") == name  # the household came from 户籍
        assert page.input_value("#id_name") == name
        page.select_option("#id_county", str(county.pk))
        page.select_option("#id_street", str(street.pk))
        page.select_option("#id_community", str(community.pk))
        page.fill("#id_housing_situation", "租住私房")
        page.check("#id_consent")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.click("button:has-text('提交申请')")
        page.locator(".case h2").first.wait_for()
        assert "待受理" in page.locator(".case h2").first.inner_text()

        with django_db_blocker.unblock():
            application = Application.objects.get(id_number=number)
            household = record("police", number)["members"]
            assert application.members.count() == len(household)
            assert application.stage == "accept"

        later = browser.new_page(viewport={"width": 375, "height": 800})
        later.goto(f"{site_url}/status/")
        later.fill("#number", application.number)
        later.fill("#id6", number[-6:])
        later.click("button:has-text('查询')")
        later.wait_for_load_state()
        assert f"{application.number}：待受理" in later.content()
        assert later.evaluate("document.documentElement.scrollWidth") <= 375
        assert not outside, outside
        browser.close()
