"""In Chromium: a district clerk redraws an estate's boundary and the public map follows."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import sync_playwright

from backoffice.models import StaffProfile
from geo.models import Estate, Region
from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser
PASSWORD = "e2e-clerk-password-42"
# How many corners the boundary being drawn has (the map editor draws one handle per corner).
SKETCH_VERTICES = "() => document.querySelectorAll('#id_boundary_map .geom-vertex').length"


@pytest.fixture(scope="module")
def clerk_and_estate(django_db_setup, django_db_blocker):
    """Committed data, visible to the gunicorn server the browser talks to."""
    with django_db_blocker.unblock():
        user, _ = get_user_model().objects.update_or_create(
            username="e2e-clerk",
            # The server hashes with the project's real hasher, not the tests' fast one.
            defaults={"password": PBKDF2PasswordHasher().encode(PASSWORD, "e2esalt1234567")},
        )
        StaffProfile.objects.update_or_create(
            user=user,
            defaults={"role": "district", "region": Region.objects.get(adcode="341602")},
        )
        estate = Estate.objects.published().filter(district__adcode="341602").order_by("pk").last()
        yield user, estate


def test_clerk_redraws_a_boundary_and_the_public_map_shows_it(
    site_url, clerk_and_estate, django_db_blocker
):
    user, estate = clerk_and_estate
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        outside = []
        page.on("request", lambda r: r.url.startswith(site_url) or outside.append(r.url))

        page.goto(f"{site_url}/estates/{estate.pk}/")
        before = page.locator("path.leaflet-interactive").first.get_attribute("d")

        page.goto(f"{site_url}/staff/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")  # the header has the language switch's button
        page.wait_for_url(f"{site_url}/staff/")

        page.goto(f"{site_url}/staff/assets/estates/{estate.pk}/edit/")
        page.locator("#id_boundary_map .geom-vertex").first.wait_for()
        page.click("#id_boundary_editor button[data-action=clear]")
        page.wait_for_function("() => document.getElementById('id_boundary').value === ''")
        box = page.locator("#id_boundary_map").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        corners = [(-140, -90), (150, -110), (130, 100), (-120, 120)]
        for dx, dy in corners:
            vertices = page.evaluate(SKETCH_VERTICES)
            page.mouse.click(cx + dx, cy + dy)
            page.wait_for_function(f"() => ({SKETCH_VERTICES})() > {vertices}")
        drawn = page.input_value("#id_boundary")  # "经度,纬度" per corner; closed when saved
        assert len(drawn.splitlines()) == len(corners)
        page.click("form.staff-form button[type=submit]")
        page.wait_for_url(f"{site_url}/staff/assets/estates/{estate.pk}/")
        assert "项目已保存" in page.content()

        page.goto(f"{site_url}/estates/{estate.pk}/")
        after = page.locator("path.leaflet-interactive").first.get_attribute("d")
        assert after != before
        assert not outside, outside
        browser.close()

    with django_db_blocker.unblock():
        changed = Estate.objects.get(pk=estate.pk)
        assert not changed.boundary.equals(estate.boundary)
        assert (
            changed.boundary.contains(changed.location)
            or changed.boundary.distance(changed.location) < 0.0005
        )
