"""In Chromium at 375 px: a tenant whose lease ends soon opens 年审 and 续租 from /my/, and
asks to renew with the form as it comes pre-filled (the demo platform answers the check)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import sync_playwright

from exchange.models import Evidence
from tenancy.models import AnnualReview, Contract, Renewal
from tests.e2e.sign_in import sign_in_resident
from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def ending(django_db_setup, django_db_blocker):
    """A committed stock lease ending in 50 days with an open review; put back afterwards."""
    with django_db_blocker.unblock():
        contract = (
            Contract.objects.filter(
                number__startswith="CL",
                status=Contract.Status.ACTIVE,
                household__applicant__isnull=False,
                renewals__isnull=True,
            )
            .select_related("household")
            .order_by("-pk")
            .first()
        )
        end = contract.end_date
        today = timezone.localdate()
        Contract.objects.filter(pk=contract.pk).update(end_date=today + timedelta(days=50))
        review = AnnualReview.objects.create(
            contract=contract,
            household=contract.household,
            year=today.year,
            opened_on=today,
            due_date=today + timedelta(days=30),
        )
    yield contract
    with django_db_blocker.unblock():
        made = list(Renewal.objects.filter(contract=contract).values_list("pk", flat=True))
        Evidence.objects.filter(subject_type="renewal", subject_id__in=made).delete()
        Renewal.objects.filter(pk__in=made).delete()
        review.delete()
        Contract.objects.filter(pk=contract.pk).update(end_date=end)


def test_a_tenant_opens_the_review_and_asks_to_renew_on_a_phone(
    site_url, ending, django_db_blocker
):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 800})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in_resident(browser, page, site_url, ending.household.phone)
        page.get_by_role("link", name="年审", exact=True).first.click()
        page.locator("h1", has_text="年度年审").wait_for()
        assert page.get_by_label("家庭月收入（元）").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.go_back()
        page.get_by_role("link", name="续租", exact=True).first.click()
        page.locator("h1", has_text="申请续租").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.get_by_label("我承诺以上信息真实，同意有关部门核查家庭信息").check()
        page.get_by_role("button", name="提交续租申请").click()
        page.locator(".msg", has_text="续租申请已提交").wait_for()
        assert page.get_by_role("button", name="撤回续租申请").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        browser.close()
    assert not errors
    with django_db_blocker.unblock():
        renewal = Renewal.objects.get(contract=ending, status=Renewal.Status.PENDING)
        assert renewal.findings and renewal.answers["members"]
