"""In Chromium at 375 px: a tenant opens 退租 from /my/, is told the county's notice, picks a
move-out day, confirms and sees the exit waiting for the move-out, without sideways scroll."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import sync_playwright

from tenancy.models import Contract, Exit
from tests.e2e.sign_in import sign_in_resident
from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tenancy(django_db_setup, django_db_blocker):
    """A committed running lease of a household with an account (its exits removed after)."""
    with django_db_blocker.unblock():
        running = Contract.objects.filter(
            status=Contract.Status.ACTIVE, household__applicant__isnull=False, exits__isnull=True
        ).select_related("household")
        contract = running.exclude(number__startswith="CL").first() or running.last()
        yield contract
        Exit.objects.filter(contract=contract).delete()


def test_a_tenant_gives_notice_on_a_phone(site_url, tenancy, django_db_blocker):
    day = timezone.localdate() + timedelta(days=45)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 800})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in_resident(browser, page, site_url, tenancy.household.phone)
        page.locator(f"a[href='/my/contracts/{tenancy.pk}/exit/']").click()
        page.locator("h1", has_text="退租与退出").wait_for()
        assert "须提前 30 天通知" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.get_by_label("计划腾退日期").fill(day.isoformat())
        page.get_by_label("我确认申请退租").check()
        page.get_by_role("button", name="提交退租申请").click()
        page.locator(".lead", has_text="待腾退").wait_for()
        assert day.isoformat() in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert not errors
        browser.close()
    with django_db_blocker.unblock():
        exit_ = Exit.objects.get(contract=tenancy)
        assert (exit_.reason, exit_.move_out_by) == ("voluntary", day)
