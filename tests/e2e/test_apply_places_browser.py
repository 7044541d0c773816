"""In Chromium at 375 px: a resident who opens the application form signed out signs in with a
code and lands on the form; there, with the keyboard alone, choosing a county lists only its
streets and a street only its communities. Without JavaScript, "更新选项" does the same."""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from geo.models import Region
from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser
PHONES = ("13655550071", "13655550072")


def names(region_ids) -> list[str]:
    return list(
        Region.objects.filter(pk__in=region_ids).order_by("adcode").values_list("name", flat=True)
    )


def listed(page, select: str) -> list[str]:
    """The place names a select offers (its prompt left out)."""
    return page.eval_on_selector_all(
        f"{select} option", "options => options.filter(o => o.value).map(o => o.textContent)"
    )


def sign_in_from(browser, page, site_url: str, path: str, phone: str) -> None:
    page.goto(f"{site_url}{path}")
    page.fill("#id_phone", phone)
    page.click("text=获取验证码")
    page.locator("#id_code").wait_for()
    inbox = browser.new_page()
    inbox.goto(f"{site_url}/dev/sms/")
    text = inbox.locator(".sms li", has_text=phone).first.inner_text()
    inbox.close()
    page.fill("#id_code", re.search(r"验证码是 (\d{6})", text).group(1))
    page.click("button:has-text('登录')")


def test_signed_out_resident_lands_on_the_form_and_chooses_by_keyboard(site_url, django_db_blocker):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 800})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))

        sign_in_from(browser, page, site_url, "/apply/", PHONES[0])
        expect(page.locator("h1")).to_contain_text("公共租赁住房申请")
        assert page.url == f"{site_url}/apply/"

        expect(page.locator("button", has_text="更新选项")).to_have_count(0)
        assert listed(page, "#id_street") == []
        expect(page.locator("#id_street option").first).to_have_text("请先选择区县")

        page.focus("#id_county")
        page.keyboard.press("ArrowDown")  # the first county
        county_id = int(page.input_value("#id_county"))
        with django_db_blocker.unblock():
            county = Region.objects.get(pk=county_id)
            streets = names(Region.objects.filter(parent=county).values("pk"))
        expect(page.locator("#id_street option").first).to_have_text("请选择街道/乡镇")
        assert listed(page, "#id_street") == streets
        expect(page.locator("[data-places-status]")).to_have_text(
            f"已列出该区县的 {len(streets)} 个街道/乡镇"
        )

        page.keyboard.press("Tab")
        expect(page.locator("#id_street")).to_be_focused()
        page.keyboard.press("ArrowDown")
        street_id = int(page.input_value("#id_street"))
        with django_db_blocker.unblock():
            street = Region.objects.get(pk=street_id)
            assert street.parent_id == county_id
            communities = names(Region.objects.filter(parent=street).values("pk"))
        assert listed(page, "#id_community") == communities

        page.keyboard.press("Tab")
        expect(page.locator("#id_community")).to_be_focused()
        page.keyboard.press("ArrowDown")
        assert page.input_value("#id_community") != ""

        # Another county: its streets replace the others, and the street choice is cleared.
        page.focus("#id_county")
        page.keyboard.press("ArrowDown")
        other_id = int(page.input_value("#id_county"))
        assert other_id != county_id
        with django_db_blocker.unblock():
            assert listed(page, "#id_street") == names(
                Region.objects.filter(parent_id=other_id).values("pk")
            )
        assert page.input_value("#id_street") == ""
        assert listed(page, "#id_community") == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert not errors, errors
        browser.close()


def test_without_javascript_update_narrows_the_lists(site_url, django_db_blocker):
    with django_db_blocker.unblock():
        county = Region.objects.filter(level="district").order_by("adcode").last()
        street = Region.objects.filter(parent=county).order_by("adcode").first()
        streets = names(Region.objects.filter(parent=county).values("pk"))
        communities = names(Region.objects.filter(parent=street).values("pk"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(
            java_script_enabled=False, viewport={"width": 375, "height": 800}
        )
        page = context.new_page()
        sign_in_from(browser, page, site_url, "/apply/", PHONES[1])
        page.locator("#id_county").wait_for()

        page.select_option("#id_county", str(county.pk))
        page.click("button:has-text('更新选项')")
        page.locator("#id_street").wait_for()
        assert listed(page, "#id_street") == streets
        page.select_option("#id_street", str(street.pk))
        page.click("button:has-text('更新选项')")
        page.locator("#id_community").wait_for()
        assert listed(page, "#id_community") == communities
        assert page.input_value("#id_county") == str(county.pk)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        browser.close()
