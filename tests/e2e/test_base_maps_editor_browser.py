"""In Chromium: a district clerk edits an estate's boundary and entrance with the keyboard
alone (typed coordinates, a mistake named by its line, the map following), then draws one by
clicking on the map, and saves both through the staff form. The editor is the site's Leaflet
map with its base-map switcher, under the Content-Security-Policy, with no outside request."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.contrib.gis.geos import Point, Polygon
from playwright.sync_api import sync_playwright

from backoffice.models import StaffProfile
from geo.models import Estate, Region
from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser
PASSWORD = "e2e-editor-password-42"


@pytest.fixture(scope="module")
def clerk_and_estate(django_db_setup, django_db_blocker):
    """Committed data, visible to the gunicorn server the browser talks to."""
    with django_db_blocker.unblock():
        user, _ = get_user_model().objects.update_or_create(
            username="e2e-editor-clerk",
            defaults={"password": PBKDF2PasswordHasher().encode(PASSWORD, "e2eeditorsalt123")},
        )
        StaffProfile.objects.update_or_create(
            user=user,
            defaults={"role": "district", "region": Region.objects.get(adcode="341602")},
        )
        estate = Estate.objects.published().filter(district__adcode="341602").order_by("pk")[1]
        yield user, estate


@pytest.fixture
def page(site_url, clerk_and_estate):
    user, _estate = clerk_and_estate
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.outside, page.errors, page.violations = [], [], []
        page.on("request", lambda r: r.url.startswith(site_url) or page.outside.append(r.url))
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on(
            "console",
            lambda m: "Content Security Policy" in m.text and page.violations.append(m.text),
        )
        page.goto(f"{site_url}/staff/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{site_url}/staff/")
        yield page
        assert not page.outside and not page.errors and not page.violations, (
            page.outside,
            page.errors,
            page.violations,
        )
        browser.close()


def vertices(page) -> int:
    return page.locator("#id_boundary_map .geom-vertex").count()


def test_a_clerk_types_a_boundary_and_an_entrance_with_the_keyboard(
    page, site_url, clerk_and_estate, django_db_blocker
):
    _user, estate = clerk_and_estate
    page.goto(f"{site_url}/staff/assets/estates/{estate.pk}/edit/")
    page.locator("#id_boundary_map .geom-vertex").first.wait_for()
    assert page.locator("#id_boundary_map .leaflet-control-layers").count() == 1  # base maps
    assert page.locator("#id_boundary_map .leaflet-control-scale-line").count() == 1

    # Tab from the description field to the boundary's coordinates, as a keyboard user does.
    page.focus("#id_description")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_boundary":
            break
    assert page.evaluate("document.activeElement.id") == "id_boundary"

    x, y = round(estate.location.x, 4), round(estate.location.y, 4)
    corners = [(x - 0.001, y - 0.001), (x + 0.0012, y - 0.001), (x + 0.001, y + 0.001)]
    lines = [f"{a:.4f},{b:.4f}" for a, b in corners]
    page.keyboard.press("Control+A")
    page.keyboard.type(f"{lines[0]}\n{lines[1].replace(',', '，北')}\n{lines[2]}")
    problem = page.locator("#id_boundary_problem")
    problem.wait_for()
    assert problem.inner_text().startswith("第 2 行")
    assert page.get_attribute("#id_boundary", "aria-invalid") == "true"

    page.keyboard.press("Control+A")
    page.keyboard.type("\n".join(lines))
    page.wait_for_function(
        "() => document.querySelectorAll('#id_boundary_map .geom-vertex').length === 3"
    )
    assert problem.is_hidden()

    page.focus("#id_location")
    page.keyboard.press("Control+A")
    page.keyboard.type(f"{x:.4f}，{y:.4f}")
    page.focus("form.staff-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site_url}/staff/assets/estates/{estate.pk}/")
    assert "项目已保存" in page.content()

    with django_db_blocker.unblock():
        saved = Estate.objects.get(pk=estate.pk)
    assert saved.boundary.equals_exact(Polygon([*corners, corners[0]], srid=4326), 1e-9)
    assert saved.location.equals_exact(Point(x, y, srid=4326), 1e-9)


def test_a_clerk_draws_a_boundary_by_clicking_and_undoes_a_corner(
    page, site_url, clerk_and_estate, django_db_blocker
):
    _user, estate = clerk_and_estate
    page.goto(f"{site_url}/staff/assets/estates/{estate.pk}/edit/")
    page.locator("#id_boundary_map .geom-vertex").first.wait_for()
    page.click("#id_boundary_editor button[data-action=clear]")
    page.wait_for_function("() => document.getElementById('id_boundary').value === ''")
    box = page.locator("#id_boundary_map").bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    for n, (dx, dy) in enumerate([(-120, -80), (130, -90), (110, 90), (-100, 100), (0, 140)], 1):
        page.mouse.click(cx + dx, cy + dy)
        page.wait_for_function(
            f"() => document.querySelectorAll('#id_boundary_map .geom-vertex').length === {n}"
        )
    page.click("#id_boundary_editor button[data-action=undo]")  # one corner too many
    page.wait_for_function(
        "() => document.querySelectorAll('#id_boundary_map .geom-vertex').length === 4"
    )
    text = page.input_value("#id_boundary")
    assert len(text.splitlines()) == 4
    # The typed text and the map agree: each line is a corner's longitude and latitude.
    corners = [tuple(map(float, line.split(","))) for line in text.splitlines()]
    page.click("form.staff-form button[type=submit]")
    page.wait_for_url(f"{site_url}/staff/assets/estates/{estate.pk}/")

    with django_db_blocker.unblock():
        saved = Estate.objects.get(pk=estate.pk)
    assert saved.boundary.equals_exact(Polygon([*corners, corners[0]], srid=4326), 1e-9)
    assert saved.boundary.buffer(0.0005).contains(saved.location)
