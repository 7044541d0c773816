"""In Chromium at 375 px: a tenant reports a leak with a phone photo from /my/, the operator
assigns and closes it on a phone in /staff/, and the tenant confirms the work."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from PIL import Image
from playwright.sync_api import sync_playwright

from backoffice.models import StaffProfile
from tenancy.models import Contract, Repair, RepairPhoto
from tests.e2e.sign_in import sign_in_resident
from tests.e2e.test_map_browser import CHROMIUM_ARGS
from tests.tenancy.test_repairs_support import gps_jpeg

pytestmark = pytest.mark.browser
PASSWORD = "e2e-repair-password-42"
NARROW = "document.documentElement.scrollWidth"


@pytest.fixture(scope="module")
def tenant_and_operator(django_db_setup, django_db_blocker):
    """Committed: a running lease with a tenant account (the second last, away from the lease
    the other repair tests reshape and from the renewal test's tenant) and a staff account of
    its estate's operator."""
    with django_db_blocker.unblock():
        contract = (
            Contract.objects.filter(
                status=Contract.Status.ACTIVE, household__applicant__isnull=False
            )
            .select_related("household", "unit__building__estate")
            .order_by("-pk")[1]
        )
        user, _ = get_user_model().objects.update_or_create(
            username="e2e-repair-operator",
            # The server hashes with the project's real hasher, not the tests' fast one.
            defaults={"password": PBKDF2PasswordHasher().encode(PASSWORD, "e2erepair123456")},
        )
        last = Repair.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        StaffProfile.objects.update_or_create(
            user=user,
            defaults={
                "role": "operator",
                "operator": contract.unit.building.estate.operator,
                "region": None,
            },
        )
    yield contract, user
    with django_db_blocker.unblock():
        RepairPhoto.objects.filter(repair__contract=contract, repair__pk__gt=last).delete()
        Repair.objects.filter(contract=contract, pk__gt=last).delete()


def test_a_tenant_reports_on_a_phone_the_operator_closes_the_tenant_confirms(
    site_url, tenant_and_operator, django_db_blocker
):
    contract, operator = tenant_and_operator
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        phone = {"viewport": {"width": 375, "height": 800}}
        tenant = browser.new_context(**phone)
        page = tenant.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in_resident(tenant, page, site_url, contract.household.phone)

        page.get_by_role("link", name="报修与维修进度").first.click()
        page.get_by_role("link", name="我要报修").click()
        page.locator("h1", has_text="我要报修").wait_for()
        assert page.evaluate(NARROW) <= 375
        assert "最多 6 张照片" in page.content()
        page.get_by_label("维修类别").select_option("urgent")
        page.get_by_label("问题描述").fill("卫生间水管接口漏水，地面积水")
        page.get_by_label("照片（可选）").set_input_files(
            [{"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": gps_jpeg()}]
        )
        page.get_by_role("button", name="提交报修").click()
        page.locator(".msg", has_text="报修已提交").wait_for()
        number = re.search(r"BX\d{4}-\d{6}", page.locator("h1").inner_text()).group(0)
        assert page.evaluate(NARROW) <= 375
        shown = page.locator(".repair-photos img").first
        shown.wait_for()
        assert page.evaluate(
            "(img) => img.complete && img.naturalWidth > 0", shown.element_handle()
        )
        body = page.request.get(site_url + shown.get_attribute("src")).body()
        assert not Image.open(io.BytesIO(body)).getexif()  # no GPS, no camera

        staff = browser.new_context(**phone).new_page()
        staff.on("pageerror", lambda e: errors.append(str(e)))
        staff.goto(f"{site_url}/staff/login/")
        staff.fill("#id_username", operator.username)
        staff.fill("#id_password", PASSWORD)
        staff.click("main button[type=submit]")
        staff.wait_for_url(f"{site_url}/staff/")
        staff.goto(f"{site_url}/staff/operations/repairs/?overdue=&status=reported")
        assert staff.evaluate(NARROW) <= 375
        staff.get_by_role("link", name=number).click()
        staff.locator("h1", has_text=number).wait_for()
        staff.get_by_label("维修人员或班组").fill("水电班组 王师傅")
        staff.get_by_role("button", name="派单", exact=True).click()
        staff.locator(".msg", has_text="已派单").wait_for()
        staff.get_by_label("完工说明").fill("更换水管接口密封圈，试水无渗漏")
        staff.get_by_role("button", name="完工", exact=True).click()
        staff.locator(".msg", has_text="已完工").wait_for()
        assert staff.evaluate(NARROW) <= 375
        assert "派单给 水电班组 王师傅" in staff.content()

        page.reload()
        assert "已完工，待您确认" in page.content()
        page.get_by_role("button", name="确认已修好").click()
        page.locator(".msg", has_text="维修工单已完成").wait_for()
        assert "已确认完成" in page.content()
        assert not errors, errors
        browser.close()
    with django_db_blocker.unblock():
        repair = Repair.objects.get(number=number)
    assert repair.status == Repair.Status.CONFIRMED and repair.closed_at and repair.confirmed_at
