"""In Chromium set to English: the page scripts speak English too (their strings come from the
JavaScript catalogue), and what they write keeps data marked as data."""

import pytest
from playwright.sync_api import sync_playwright

from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser

# The reader's text in `root`, without data (lang="zh-…", translate="no") and without the map
# canvas (its place names are drawn by the map); Han characters there are untranslated text.
CHINESE_OUTSIDE_DATA = """(root) => {
  const copy = document.querySelector(root).cloneNode(true);
  copy.querySelectorAll('[lang^="zh"], [translate="no"], .leaflet-container, script')
    .forEach((e) => e.remove());
  return (copy.textContent.match(/[^\\s]*[\\u3400-\\u9fff][^\\s]*/g) || []);
}"""


@pytest.fixture(scope="module")
def page(site_url):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        yield page
        browser.close()


def test_the_map_page_scripts_write_english(page, site_url):
    page.goto(site_url + "/")
    assert page.get_attribute("html", "lang") == "en"
    page.locator("#map-home .leaflet-marker-icon").first.wait_for()
    box = page.locator("#map-home").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 40)  # clear of the markers
    heading = page.locator("#locate-panel h2")
    heading.wait_for()
    assert heading.inner_text() == "Chosen spot"
    assert "Only units within 3 km of here" in page.locator("#locate-panel").inner_text()
    assert page.evaluate(CHINESE_OUTSIDE_DATA, "main") == []
    assert not page.errors, page.errors


def test_search_suggestions_are_announced_in_english(page, site_url):
    page.goto(site_url + "/")
    page.fill("#search-q", "xyy")  # the initials of 兴业苑
    status = page.locator("#search-status")
    page.wait_for_function("() => document.getElementById('search-status').textContent !== ''")
    assert "use the up and down arrow keys to choose" in status.inner_text()
    assert page.evaluate(CHINESE_OUTSIDE_DATA, "#search-suggestions") == []
    assert not page.errors, page.errors
