"""In Chromium at 375 px: a tenant signs in, opens the lease from /my/, asks for a code,
confirms, and after the operator's signature downloads the signed PDF."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from playwright.sync_api import sync_playwright

from allocation.models import Offer
from tenancy.models import Contract, LeaseTemplate
from tenancy.services import contracts
from tests.e2e.sign_in import sign_in_resident
from tests.e2e.test_map_browser import CHROMIUM_ARGS
from tests.personas import make_staff
from tests.tenancy.conftest import START, TEMPLATE

pytestmark = pytest.mark.browser


def _approve(contract_id: int, clerk) -> None:
    try:
        contracts.approve(contract_id, actor=clerk)
    finally:
        connection.close()


@pytest.fixture(scope="module")
def waiting(django_db_setup, django_db_blocker):
    """A committed lease waiting for its tenant (the demo's, or one made for this test)."""
    with django_db_blocker.unblock():
        contract = (
            Contract.objects.filter(
                status=Contract.Status.AWAITING_TENANT, household__applicant__isnull=False
            )
            .select_related("household")
            .first()
        )
        made = contract is None
        if made:
            offer = Offer.objects.filter(status="accepted", contract__isnull=True).first()
            with transaction.atomic():
                LeaseTemplate.objects.get_or_create(
                    county=offer.household.county,
                    version=1,
                    defaults={"title": "公共租赁住房租赁合同", "body": TEMPLATE.read_text()},
                )
            clerk = make_staff(
                "e2e-lease", "operator", operator=offer.unit.building.estate.operator
            )
            contract = contracts.draft(offer.pk, start=START, months=12, actor=clerk)
        yield contract


def test_a_tenant_confirms_a_lease_on_a_phone_and_downloads_it_signed(
    site_url, waiting, django_db_blocker
):
    phone = waiting.household.phone
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 800})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in_resident(browser, page, site_url, phone)
        page.get_by_role("link", name="阅读并确认签署").first.click()
        page.locator("h1", has_text="租赁合同").wait_for()
        assert waiting.number in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        with page.expect_response(re.compile(r"/pdf/$")) as reading:
            page.get_by_role("link", name="阅读合同全文（PDF）").click()
        assert reading.value.headers["content-type"] == "application/pdf"
        page.go_back()
        page.get_by_role("button", name="获取验证码").click()
        page.locator(".msg", has_text="验证码已发送到您登记的手机").wait_for()
        inbox = browser.new_page()
        inbox.goto(f"{site_url}/dev/sms/")
        text = inbox.locator(
            ".sms li", has_text=f"签署租赁合同 {waiting.number}"
        ).first.inner_text()
        inbox.close()
        page.get_by_label("短信验证码").fill(re.search(r"验证码 (\d{6})", text).group(1))
        page.get_by_label("我已阅读并同意本合同全部条款").check()
        page.get_by_role("button", name="确认签署").click()
        page.locator(".msg", has_text="您已确认合同").wait_for()
        assert "待运营单位审核" in page.content()

        with django_db_blocker.unblock():
            clerk = make_staff(
                "e2e-approver", "operator", operator=waiting.unit.building.estate.operator
            )
            # pyHanko runs its own event loop: not in this thread, where Playwright's runs.
            with ThreadPoolExecutor(max_workers=1) as worker:
                worker.submit(_approve, waiting.pk, clerk).result()
        page.reload()
        assert "已签订待入住" in page.content()
        link = page.get_by_role("link", name="下载已签章合同（PDF）")
        body = page.request.get(site_url + link.get_attribute("href")).body()  # as a download
        assert body.startswith(b"%PDF-") and b"/ByteRange" in body  # a signed PDF
        assert not errors
        browser.close()
