"""In Chromium at 375 px: a grid worker records a visit at a door with a photo and a suspected
sublet (the case opens), and a resident files an anonymous report and sees its reference; no
page scrolls sideways."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from PIL import Image
from playwright.sync_api import sync_playwright

from backoffice.models import StaffProfile
from geo.models import Unit
from tenancy.models import CaseRecord, Complaint, Inspection, ViolationCase
from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser
PASSWORD = "e2e-grid-password-42"
WIDTH = 375


@pytest.fixture(scope="module")
def worker_and_unit(django_db_setup, django_db_blocker):
    """Committed: a grid worker of a community with let units; what the test made is removed
    afterwards (archive events stay: they are append-only)."""
    with django_db_blocker.unblock():
        unit = (
            Unit.objects.filter(
                status=Unit.Status.OCCUPIED,
                building__estate__community__isnull=False,
                building__estate__published=True,
            )
            .select_related("building__estate")
            .order_by("pk")
            .first()
        )
        user, _ = get_user_model().objects.update_or_create(
            username="e2e-grid",
            defaults={"password": PBKDF2PasswordHasher().encode(PASSWORD, "e2esalt1234567")},
        )
        StaffProfile.objects.update_or_create(
            user=user,
            defaults={"role": "community", "region": unit.building.estate.community},
        )
        last_case = ViolationCase.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        last_complaint = Complaint.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        yield user, unit
        Inspection.objects.filter(inspector=user).delete()
        Complaint.objects.filter(pk__gt=last_complaint).delete()
        CaseRecord.objects.filter(case__pk__gt=last_case).delete()
        ViolationCase.objects.filter(pk__gt=last_case).delete()


def _photo(tmp_path) -> str:
    path = tmp_path / "门口.jpg"
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (90, 90, 160)).save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return str(path)


def _no_sideways_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH


def test_a_grid_worker_records_a_visit_from_a_phone(
    site_url, worker_and_unit, django_db_blocker, tmp_path
):
    user, unit = worker_and_unit
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 800})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{site_url}/staff/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{site_url}/staff/")
        page.goto(f"{site_url}/staff/inspections/?q={unit.number}")
        page.locator("h1", has_text="入户巡查").wait_for()
        _no_sideways_scroll(page)
        page.goto(f"{site_url}/staff/inspections/units/{unit.pk}/")
        _no_sideways_scroll(page)
        page.get_by_label("是", exact=True).check()
        page.get_by_label("应门人").select_option("other")
        page.get_by_label("巡查情况").fill("应门者自称租客，每月交租给承租人")
        page.get_by_label("巡查发现").select_option("sublet")
        page.set_input_files("#v-photos", _photo(tmp_path))
        page.get_by_role("button", name="保存巡查记录").click()
        page.locator(".msg", has_text="疑似违规已立案").wait_for()
        _no_sideways_scroll(page)
        assert not errors
        browser.close()
    with django_db_blocker.unblock():
        visit = Inspection.objects.get(inspector=user, unit=unit)
        assert visit.case.source == "inspection" and visit.photos.count() == 1


def test_a_resident_reports_anonymously_from_a_phone(site_url, worker_and_unit, django_db_blocker):
    _user, unit = worker_and_unit
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 800})
        page.goto(f"{site_url}/report/")
        _no_sideways_scroll(page)
        page.get_by_label("小区").select_option(str(unit.building.estate_id))
        page.get_by_label("楼栋和房号（可不填）").fill(f"{unit.building.number} {unit.number}")
        page.get_by_label("举报事项").select_option("idle")
        page.get_by_label("举报内容").fill("这套房子一年多没人住了，门口贴满了广告")
        page.get_by_role("button", name="提交举报").click()
        page.locator("h1", has_text="举报已受理").wait_for()
        text = page.locator("main").inner_text()
        _no_sideways_scroll(page)
        browser.close()
    with django_db_blocker.unblock():
        complaint = Complaint.objects.order_by("-pk").first()
        assert complaint.reference in text and complaint.unit_id == unit.pk and complaint.anonymous
