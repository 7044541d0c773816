"""In Debian's headless Chromium: the home map draws estate markers with nothing from outside."""

import pytest
from playwright.sync_api import sync_playwright

from geo.models import Estate
from geo.selectors import public_estates_with_vacancy

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser, url: str, width: int = 1200):
    page = browser.new_page(viewport={"width": width, "height": 900})
    outside, errors = [], []
    page.on("request", lambda r: r.url.startswith(url) or outside.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page, outside, errors


def test_map_shows_estate_markers_and_opens_an_estate(browser, site_url):
    page, outside, errors = open_page(browser, site_url)
    page.goto(site_url + "/")
    page.locator(".leaflet-marker-icon").first.wait_for(timeout=15000)
    assert page.locator(".leaflet-marker-icon").count() >= 4  # clusters and markers
    # Cluster labels add up to the vacant units of published estates.
    labels = page.locator(".estate-cluster, .estate-marker").all_inner_texts()
    shown = sum(int(t) for t in labels)
    assert shown == sum(e.vacant_count for e in public_estates_with_vacancy())
    assert page.locator("path.leaflet-interactive").count() >= 4  # county outlines
    assert not errors, errors
    assert not outside, outside

    # Zoom into the busiest cluster until an estate marker shows, then follow its popup.
    for _ in range(8):
        if page.locator(".estate-marker").count():
            break
        page.locator(".estate-cluster").first.click()
        page.wait_for_timeout(600)
    marker = page.locator(".estate-marker").first
    marker.click()
    link = page.locator(".leaflet-popup-content a")
    link.wait_for(timeout=5000)
    link.click()
    page.wait_for_load_state()
    heading = page.locator("h1").inner_text()
    assert Estate.objects.published().filter(name=heading).exists()
    page.close()


def test_phone_width_map_and_list(browser, site_url):
    page, outside, errors = open_page(browser, site_url, width=375)
    page.goto(site_url + "/")
    page.locator(".leaflet-marker-icon").first.wait_for(timeout=15000)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"page scrolls sideways on a phone ({width}px)"
    assert page.locator("table.estate-list tbody tr").count() == Estate.objects.published().count()
    assert not errors and not outside
    page.close()
