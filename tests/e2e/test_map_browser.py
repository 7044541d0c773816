"""In Debian's headless Chromium: the map, its filters, the search box and the estate page."""

import pytest
from django.db.models import Count, Q
from playwright.sync_api import sync_playwright

from geo import selectors
from geo.models import Estate, Unit
from geo.pinyin import pinyin_keys
from geo.vacancy import VacancyQuery

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # A Chinese reader's browser (Chromium would ask for en-US, and the site speaks English too);
    # tests/portal/test_english*.py asks for English itself.
    "--accept-lang=zh-CN",
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, site_url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.outside, page.errors = [], []
    page.on("request", lambda r: r.url.startswith(site_url) or page.outside.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    assert not page.errors, page.errors
    assert not page.outside, page.outside
    page.close()


def wait_for_marker_total(page, total: int) -> None:
    """Cluster labels add up to `total` (waiting out the clusters' zoom animation)."""
    page.wait_for_function(
        "(total) => [...document.querySelectorAll('.estate-cluster, .estate-marker')]"
        ".reduce((s, el) => s + Number(el.textContent), 0) === total",
        arg=total,
    )


def test_map_shows_estate_markers_with_vacant_counts(page, site_url):
    page.goto(site_url + "/")
    expected = sum(e.vacant_count for e in selectors.vacancy_estates(VacancyQuery()))
    wait_for_marker_total(page, expected)
    assert page.locator("path.leaflet-interactive").count() == 4  # 亳州's four county outlines


def test_a_filter_changes_markers_list_and_url_and_back_restores_them(page, site_url):
    page.goto(site_url + "/")
    page.locator(".estate-cluster, .estate-marker").first.wait_for()
    before = sum(e.vacant_count for e in selectors.vacancy_estates(VacancyQuery()))
    wait_for_marker_total(page, before)
    page.select_option("#id_district", "341621")
    page.wait_for_url("**/?district=341621")
    # Predicates are functions: Playwright evals an expression string, which the CSP forbids.
    page.wait_for_function(
        "() => document.querySelector('#map-home').getAttribute('aria-busy') === null"
    )
    expected = list(selectors.vacancy_estates(VacancyQuery(district="341621")))
    page.wait_for_function(
        f"() => document.querySelectorAll('#estate-list-body tr').length === {len(expected)}"
    )
    total = sum(e.vacant_count for e in expected)
    assert total < before
    wait_for_marker_total(page, total)
    rows = page.locator("#estate-list-body tr td:nth-child(2)").all_inner_texts()
    assert set(rows) == {"涡阳县"}
    assert str(sum(e.vacant_count for e in expected)) in page.locator("#result-count").inner_text()
    page.go_back()
    page.wait_for_function(
        f"() => document.querySelectorAll('#estate-list-body tr').length > {len(expected)}"
    )
    assert page.locator("#id_district").input_value() == ""


def test_search_by_initials_and_open_the_estate(page, site_url):
    # An estate with vacant units and let ones, so the list must tell them apart.
    estate = (
        Estate.objects.published()
        .annotate(
            vacant=Count("buildings__units", filter=Q(buildings__units__status="vacant")),
            other=Count("buildings__units", filter=~Q(buildings__units__status="vacant")),
        )
        .filter(vacant__gt=0, other__gt=0)
        .order_by("pk")
        .first()
    )
    vacant = set(
        Unit.objects.filter(building__estate=estate, status="vacant").values_list(
            "building__number", "number"
        )
    )
    initials = pinyin_keys(estate.name)[1]
    page.goto(site_url + "/")
    page.fill("#search-q", initials)
    option = page.locator("#search-suggestions li", has_text=estate.name).first
    option.wait_for()
    page.keyboard.press("ArrowDown")
    while page.locator(".search-hit.is-active").inner_text().find(estate.name) < 0:
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/estates/{estate.pk}/")
    assert page.locator("h1").inner_text() == estate.name
    # The page lists exactly the estate's vacant units: none missing, nothing let or in repair.
    rows = page.locator(".unit-list tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].textContent, r.cells[1].textContent])"
    )
    assert len(rows) == len(vacant) and {tuple(r) for r in rows} == vacant
    assert page.locator("#poi-title").is_visible()


def test_popup_links_to_the_estate(page, site_url):
    estate = selectors.vacancy_estates(VacancyQuery(district="341623")).first()
    page.goto(site_url + "/?district=341623")
    page.locator(".estate-marker, .estate-cluster").first.wait_for()
    # Zoom straight to the estate (clicking clusters open depends on animation timing).
    page.evaluate(
        "([lat, lon]) => window[document.getElementById('map-home').dataset.mapVar]"
        ".setView([lat, lon], 18, {animate: false})",
        [estate.location.y, estate.location.x],
    )
    marker = page.locator(f".leaflet-marker-icon[title^='{estate.name}']")
    marker.wait_for()
    marker.click()
    page.locator(".leaflet-popup-content a", has_text="查看项目与房源").click()
    page.wait_for_url(f"**/estates/{estate.pk}/")
    assert page.locator("h1").inner_text() == estate.name


def test_clicking_the_map_looks_the_place_up(page, site_url):
    page.goto(site_url + "/")
    page.locator(".estate-cluster, .estate-marker").first.wait_for()
    box = page.locator("#map-home").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.3)
    panel = page.locator("#locate-panel")
    panel.wait_for()
    assert "所选位置" in panel.inner_text()


def test_phone_width_without_sideways_scroll_and_large_text(browser, site_url):
    page = browser.new_page(viewport={"width": 375, "height": 800})
    page.goto(site_url + "/")
    page.locator(".estate-cluster, .estate-marker").first.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert not page.locator("#vacancy-form details").evaluate("d => d.open")  # folded on phones
    page.click("text=大字模式")
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    page.goto(site_url + "/units/")
    assert page.evaluate("document.documentElement.classList.contains('large-text')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.close()


def test_tiles_mode_draws_vector_tiles_and_opens_an_estate(browser, tiles_site_url):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(tiles_site_url + "/")
    shapes = page.locator(".leaflet-tile path")
    shapes.first.wait_for()
    assert shapes.count() >= 4
    assert page.locator(".estate-marker, .estate-cluster").count() == 0
    page.select_option("#id_district", "341623")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#estate-list-body tr td:nth-child(2)')]"
        ".every(td => td.textContent === '利辛县')"
        " && document.querySelectorAll('#estate-list-body tr').length > 0"
    )
    assert "符合条件的项目" in page.locator("#result-count").inner_text()
    # A click anywhere looks the place up and lists the nearest estates with vacancies.
    box = page.locator("#map-home").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    link = page.locator("#locate-panel ol a").first
    link.wait_for()
    link.click()
    page.locator("h1").wait_for()
    assert "/estates/" in page.url
    assert not errors, errors
    page.close()
