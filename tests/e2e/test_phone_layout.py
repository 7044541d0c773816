"""On a 375 px phone: every public page fits the screen (no sideways scrolling), lets the
reader zoom, and the header menu opens from the keyboard with every link in it."""

import re

import pytest
from playwright.sync_api import sync_playwright

from disclosure.models import Page, Publication
from geo.models import Estate
from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1366, "height": 900}
NAV_LINKS = 11

PUBLIC_PAGES = {
    "home": "/",
    "units": "/units/",
    "filtered units": "/units/?district=341602&rooms=2",
    "notices": "/notices/",
    "status": "/status/",
    "self-check": "/self-check/",
    "apply sign-in": "/apply/login/?next=/apply/",
    "search by pinyin": "/search/?q=tangling",
    "search without a hit": "/search/?q=zzqqxx",
    "locate": "/locate/?at=115.78,33.85",
    "policy": "/policy/",
    "guide": "/guide/",
    "contact": "/contact/",
    "OGC landing": "/ogc/?f=html",
    "OGC collections": "/ogc/collections?f=html",
    "OGC items": "/ogc/collections/vacant-units/items?f=html",
}

# The widths a page would need if something refused to wrap: reported when the test fails.
WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
  .filter(el => !el.closest('.table-scroll, .leaflet-container, .visually-hidden'))
  .slice(0, 5).map(el => el.tagName + '.' + el.className + ': ' + el.textContent.slice(0, 40))"""


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def phone(browser, site_url):
    page = browser.new_page(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    assert not page.errors, page.errors
    page.close()


def assert_fits_and_zooms(page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    page.wait_for_load_state("load")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    inner_width = page.evaluate("window.innerWidth")
    assert scroll_width <= inner_width, (url, scroll_width, page.evaluate(WIDEST))
    viewports = page.locator("meta[name=viewport]").evaluate_all(
        "metas => metas.map(m => m.content)"
    )
    assert viewports and all("width=device-width" in v for v in viewports), viewports
    for content in viewports:  # 适老化: pinch zoom must stay possible
        assert not re.search(r"user-scalable\s*=\s*(no|0)", content), content
        assert "maximum-scale" not in content, content


@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_public_page_fits_a_phone_and_can_be_zoomed(phone, site_url, name):
    assert_fits_and_zooms(phone, site_url + PUBLIC_PAGES[name])


def test_estate_and_policy_pages_fit_a_phone(phone, site_url):
    # The estate with the most buildings: the longest unit list and the busiest map.
    estate = Estate.objects.published().order_by("-id").first()
    assert_fits_and_zooms(phone, f"{site_url}/estates/{estate.pk}/")
    page = Page.objects.filter(published=True).order_by("pk").first()
    assert_fits_and_zooms(phone, f"{site_url}/{page.section}/{page.slug}/")


def test_a_notice_of_every_kind_fits_a_phone(phone, site_url):
    # Hashes, permalinks and wide lists are the usual culprits: each kind has its own.
    kinds = {}
    for publication in Publication.objects.current().order_by("-published_at"):
        kinds.setdefault(publication.kind, publication)
    assert {"review", "waitlist", "round", "allocation", "vacancy", "notice"} <= set(kinds)
    for publication in kinds.values():
        assert_fits_and_zooms(phone, f"{site_url}/notices/{publication.series_id}/")


def test_unit_list_reads_as_cards_not_one_character_columns(phone, site_url):
    phone.goto(site_url + "/units/")
    row = phone.locator(".unit-list tbody tr").first
    layout = row.locator("td[data-label]").evaluate_all(
        "cells => cells.filter(c => c.offsetParent).map(c => {"
        "  const r = c.getBoundingClientRect();"
        "  return [c.dataset.label, r.width, r.height, getComputedStyle(c, '::before').content];"
        "})"
    )
    assert len(layout) >= 6
    line = phone.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    for label, width, height, before in layout:
        # One line each, the value after its column name: never a column a character wide.
        assert height < 2 * line, (label, width, height)
        assert label in before, (label, before)


def test_menu_opens_from_the_keyboard_and_shows_every_link(phone, site_url):
    phone.goto(site_url + "/units/")
    toggle = phone.locator(".menu-toggle")
    links = phone.locator("#site-nav a")
    assert toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false"
    assert links.count() == NAV_LINKS
    assert not links.first.is_visible()

    for _ in range(10):  # skip link, brand, then the menu button
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.classList.contains('menu-toggle')"):
            break
    else:
        pytest.fail("the menu button cannot be reached with Tab")
    phone.keyboard.press("Enter")
    assert toggle.get_attribute("aria-expanded") == "true"
    for i in range(NAV_LINKS):
        link = links.nth(i)
        assert link.is_visible(), link.inner_text()
        box = link.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], link.inner_text()
        assert box["height"] >= 40  # a finger-sized target
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    current = phone.locator("#site-nav a[aria-current=page]")
    assert current.count() == 1 and current.get_attribute("href") == "/units/"

    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.textContent") == links.first.inner_text()
    phone.keyboard.press("Escape")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not links.first.is_visible()
    assert phone.evaluate("document.activeElement.classList.contains('menu-toggle')")
    phone.keyboard.press("Space")
    assert toggle.get_attribute("aria-expanded") == "true"


def test_without_javascript_every_link_is_listed(browser, site_url):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(site_url + "/")
    links = page.locator("#site-nav a")
    assert links.count() == NAV_LINKS
    assert all(links.nth(i).is_visible() for i in range(NAV_LINKS))
    assert not page.locator(".menu-toggle").is_visible()  # it would do nothing
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    context.close()


def test_on_a_wide_screen_the_links_stay_in_the_header(browser, site_url):
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    page.goto(site_url + "/notices/")
    assert not page.locator(".menu-toggle").is_visible()
    links = page.locator("#site-nav a")
    assert all(links.nth(i).is_visible() for i in range(NAV_LINKS))
    page.close()


def test_on_a_wide_screen_every_published_list_fits_without_sideways_scrolling(browser, site_url):
    """A journalist at 1366 px reads each list whole: long cells wrap, dates stay on one line."""
    page = browser.new_page(viewport=DESKTOP, locale="zh-CN")
    kinds = {}
    for publication in Publication.objects.current().exclude(items=[]).order_by("-published_at"):
        kinds.setdefault(publication.kind, publication)
    assert "dishonesty" in kinds, "the demo publishes a dishonesty list"
    for kind, publication in kinds.items():
        page.goto(f"{site_url}/notices/{publication.series_id}/")
        box = page.evaluate(
            "() => { const s = document.querySelector('.table-scroll');"
            " return [s.scrollWidth, s.clientWidth]; }"
        )
        assert box[0] <= box[1], (kind, box)
        dates = page.locator("table.items td.nowrap").evaluate_all(
            "cells => cells.slice(0, 20).map(c => c.getClientRects().length)"
        )
        assert all(lines == 1 for lines in dates), (kind, dates)
    page.close()
