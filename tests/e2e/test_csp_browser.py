"""In Chromium, under the real Content-Security-Policy: maps, widgets and page scripts work
and the browser reports no violation (an inline script or style it had to block)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.auth.models import Permission
from playwright.sync_api import sync_playwright

from allocation.models import Round
from backoffice.models import StaffProfile
from disclosure.models import Publication
from geo import selectors
from geo.models import Estate, Region
from geo.vacancy import VacancyQuery
from tests.e2e.test_map_browser import CHROMIUM_ARGS, wait_for_marker_total

pytestmark = [pytest.mark.browser, pytest.mark.django_db]
PASSWORD = "e2e-csp-clerk-password-42"


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, site_url):
    """A page that records CSP violations (console and events), script errors and requests
    leaving the site."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.violations, page.errors, page.outside = [], [], []
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and page.violations.append(m.text),
    )
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: r.url.startswith(site_url) or page.outside.append(r.url))
    yield page
    page.close()


def assert_clean(page) -> None:
    assert not page.violations, page.violations
    assert not page.errors, page.errors
    assert not page.outside, page.outside


def test_public_maps_draw_without_violations(page, site_url):
    page.goto(site_url + "/")
    expected = sum(e.vacant_count for e in selectors.vacancy_estates(VacancyQuery()))
    wait_for_marker_total(page, expected)
    assert page.locator("#map_city path.leaflet-interactive").count() == 4  # county outlines
    assert "行政区划边界" in page.locator(".leaflet-control-attribution").inner_text()
    assert page.locator(".leaflet-control-scale").count() == 1

    estate = Estate.objects.published().filter(boundary__isnull=False).order_by("pk").first()
    buildings = estate.buildings.exclude(footprint=None).count()
    page.goto(f"{site_url}/estates/{estate.pk}/")
    paths = page.locator("#map_estate path.leaflet-interactive")
    paths.first.wait_for()
    assert paths.count() == 1 + buildings + 1  # boundary, footprints, entrance
    # The entrance, drawn last, is a ring (no fill): point at its stroke for its tooltip.
    ring = paths.last.bounding_box()
    page.mouse.move(ring["x"] + 1, ring["y"] + ring["height"] / 2)
    assert page.locator(".leaflet-tooltip").inner_text() == estate.name

    notice = next(
        p
        for p in Publication.objects.current().order_by("pk")
        if any("lon" in item for item in p.items)
    )
    page.goto(f"{site_url}/notices/{notice.series_id}/")
    page.locator("#notice-map path.leaflet-interactive").first.wait_for()
    assert_clean(page)


def test_vector_tiles_draw_without_violations(browser, tiles_site_url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    violations = []
    page.on("console", lambda m: "Content Security Policy" in m.text and violations.append(m.text))
    page.goto(tiles_site_url + "/")
    page.locator("#map_city .leaflet-tile path").first.wait_for()
    assert not violations, violations
    page.close()


@pytest.fixture(scope="module")
def clerk(django_db_setup, django_db_blocker):
    """A district clerk who is also a superuser, as only superusers use the admin (committed:
    the server sees it)."""
    with django_db_blocker.unblock():
        user, _ = get_user_model().objects.update_or_create(
            username="e2e-csp-clerk",
            defaults={
                "password": PBKDF2PasswordHasher().encode(PASSWORD, "e2ecspsalt12345"),
                "is_staff": True,
                "is_superuser": True,
                "is_active": True,
            },
        )
        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="geo", codename__in=["view_estate", "change_estate"]
            )
        )
        StaffProfile.objects.update_or_create(
            user=user,
            defaults={"role": "district", "region": Region.objects.get(adcode="341602")},
        )
    yield user
    with django_db_blocker.unblock():
        # Committed rows outlive the module: no superuser is left for the tests that follow.
        get_user_model().objects.filter(pk=user.pk).update(is_superuser=False)


def test_staff_pages_and_the_admin_map_work_without_violations(page, site_url, clerk):
    estate = Estate.objects.published().filter(district__adcode="341602").order_by("pk").first()
    choosing = Round.objects.filter(county__adcode="341602", status="choosing").first()
    page.goto(f"{site_url}/staff/login/")
    page.fill("#id_username", clerk.username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")  # the header has the language switch's button
    page.wait_for_url(f"{site_url}/staff/")
    assert page.locator("svg.bar").count() > 0

    page.goto(f"{site_url}/staff/assets/estates/{estate.pk}/edit/")
    page.locator("#id_boundary_map .geom-vertex").first.wait_for()  # the map editor's handles
    page.locator("#id_location_map .leaflet-marker-icon").first.wait_for()

    page.goto(f"{site_url}/staff/assets/import/")
    page.locator("#import-form").wait_for()
    page.goto(f"{site_url}/staff/allocation/rounds/{choosing.pk}/")
    page.locator("#board").wait_for()

    page.goto(f"{site_url}/admin/geo/estate/{estate.pk}/change/")
    page.locator("#id_boundary_map .geom-vertex").first.wait_for()
    assert page.locator("#id_boundary_editor button[data-action=clear]").is_visible()
    assert_clean(page)
