"""In Chromium at 1366 and 375 px: the back office's radio groups (审核结论, 核实结论, 异议结论, a
round's 选房顺序 and 参加家庭) sit in a fieldset with a legend, each radio right beside its label,
and are chosen with the keyboard."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import sync_playwright

from backoffice.models import StaffProfile
from disclosure.models import Objection, Publication
from geo.models import Region
from housing.models import Applicant, Application, IdentityClaim
from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser
PASSWORD = "e2e-choices-password-7"
WIDTHS = [1366, 375]
# Each radio and the text of its label, measured in the page.
MEASURE = """fieldset => [...fieldset.querySelectorAll('label.choice')].map(label => {
  const box = label.querySelector('input').getBoundingClientRect();
  const text = label.querySelector('span').getBoundingClientRect();
  return {
    gap: text.left - box.right,
    drift: Math.abs((box.top + box.bottom) / 2 - (text.top + text.bottom) / 2),
    width: box.width,
  };
})"""


@pytest.fixture(scope="module")
def pages(django_db_setup, django_db_blocker):
    """A county clerk and one page per radio group, committed for the served site; the claim
    and the objection made here are removed afterwards (other tests count them)."""
    with django_db_blocker.unblock():
        county = Region.objects.get(adcode="341602")
        user, _ = get_user_model().objects.update_or_create(
            username="e2e-choices-clerk",
            defaults={"password": PBKDF2PasswordHasher().encode(PASSWORD, "e2esalt7654321")},
        )
        StaffProfile.objects.update_or_create(
            user=user, defaults={"role": "district", "region": county}
        )
        case = Application.objects.filter(county=county, stage="second_review").first()
        claim = IdentityClaim.objects.create(
            claimant=Applicant.objects.create(phone="13900007700"),
            application=case,
            id_number=case.id_number,
            reason="clash",
        )
        objection = Objection.objects.create(
            publication=Publication.objects.filter(region=county).order_by("pk").first(),
            item_key="E2E",
            name="邻居",
            contact="13800000000",
            reason="浏览器测试",
        )
        yield (
            user,
            {
                "decision": f"/staff/review/{case.pk}/",
                "accept": f"/staff/review/claims/{claim.pk}/",
                "sustained": "/staff/publishing/objections/",
                "method": f"/staff/allocation/rounds/new/?county={county.adcode}",
                "invitation": f"/staff/allocation/rounds/new/?county={county.adcode}",
            },
        )
        objection.delete()
        claim.delete()
        Applicant.objects.filter(phone="13900007700").delete()


@pytest.mark.parametrize("width", WIDTHS)
def test_radios_sit_beside_their_labels_and_answer_the_keyboard(site_url, pages, width):
    user, groups = pages
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(f"{site_url}/staff/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{site_url}/staff/")
        for name, path in groups.items():
            page.goto(site_url + path)
            fieldset = (
                page.locator("fieldset.choices")
                .filter(has=page.locator(f"input[type=radio][name={name}]"))
                .first
            )
            radios = fieldset.locator("input[type=radio]")
            assert fieldset.locator("legend").inner_text().strip(), name
            assert radios.count() >= 2, name
            for i, box in enumerate(fieldset.evaluate(MEASURE)):
                where = f"{name} #{i} at {width}px: {box}"
                assert 0 <= box["gap"] <= 12, where
                assert box["drift"] <= 4, where
                assert box["width"] <= 24, where
            assert page.evaluate("document.documentElement.scrollWidth") <= width, name

            radios.first.focus()
            page.keyboard.press("Space")
            assert radios.first.is_checked(), name
            page.keyboard.press("ArrowDown")
            assert radios.nth(1).is_checked() and not radios.first.is_checked(), name
            fieldset.locator("label.choice span").first.click()
            assert radios.first.is_checked(), f"{name}: a click on the label chooses"
        browser.close()
