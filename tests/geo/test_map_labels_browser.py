"""In Chromium, a city too big to send estate names with the page (the demo city served with
ANJU_MAP_INLINE_ESTATE_LABELS=0): the names of the estates in view still appear as the visitor
pans and zooms, fetched from /api/map-labels/."""

import pytest
from playwright.sync_api import sync_playwright

from geo.models import Estate
from tests.conftest import _serve, _stop
from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture(scope="module")
def big_city_url(django_db_setup, django_db_blocker, data_platform) -> str:
    base, proc = _serve(data_platform, ANJU_MAP_INLINE_ESTATE_LABELS="0")
    yield base
    _stop(proc, django_db_blocker)


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def set_view(page, lat: float, lon: float, zoom: int) -> None:
    page.evaluate(
        "([lat, lon, zoom]) => window.map_city.setView([lat, lon], zoom, {animate: false})",
        [lat, lon, zoom],
    )


def test_estate_names_come_with_the_view(browser, big_city_url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors, asked = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: "/api/map-labels/" in r.url and asked.append(r.url))
    page.goto(big_city_url + "/")
    page.locator("#map_city .anju-label--district").first.wait_for()
    assert page.locator(".anju-label--estate").count() == 0
    assert asked == []  # at the city's zoom no estate name shows: nothing to fetch

    estates = list(Estate.objects.published().order_by("pk"))
    first = estates[0]
    far = max(
        estates,
        key=lambda e: abs(e.location.x - first.location.x) + abs(e.location.y - first.location.y),
    )
    for estate in (first, far):
        set_view(page, estate.location.y, estate.location.x, 16)
        page.locator(".anju-label--estate", has_text=estate.name).first.wait_for()
    assert len(asked) >= 2
    assert not errors, errors
    page.close()
