"""In Chromium at 375 px: a household whose turn has come signs in with a code, opens its
round, picks a building on the map, chooses a unit from the popup and accepts the offer."""

import pytest
from playwright.sync_api import sync_playwright

from allocation.models import Offer, Round, Slot
from allocation.selectors import choosable_units
from allocation.services.waitlist import policy_for
from geo.models import Unit
from tests.e2e.sign_in import sign_in_resident
from tests.e2e.test_map_browser import CHROMIUM_ARGS

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chooser(django_db_setup, django_db_blocker) -> Slot:
    """The last household in the demo's choosing round whose size fits a unit left."""
    with django_db_blocker.unblock():
        round_ = Round.objects.get(status=Round.Status.CHOOSING, name__contains="第二批")
        policy = policy_for(round_.county)
        for slot in round_.slots.select_related("household").order_by("-rank"):
            if (
                slot.status == Slot.Status.WAITING
                and slot.household.applicant_id
                and choosable_units(round_, slot.household, policy).exists()
            ):
                return slot
    pytest.fail("the demo's choosing round has no household left to choose")


def test_household_chooses_a_unit_on_the_map_at_phone_width(site_url, chooser, django_db_blocker):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 800})
        outside, errors = [], []
        page.on("request", lambda r: r.url.startswith(site_url) or outside.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        sign_in_resident(browser, page, site_url, chooser.household.phone)

        # /my/ shows the household's place and its turn.
        assert chooser.household.public_key in page.content()
        page.click("text=去选房")
        page.locator("#choose-map .leaflet-marker-icon").first.wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        page.locator("#choose-map .leaflet-marker-icon").first.click()
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for()
        label = popup.locator("li").first.inner_text()
        number = label.replace("选这套", "").strip().split(" · ")[0]
        popup.locator("button", has_text="选这套").first.click()
        page.locator("#offer-title").wait_for()
        assert "已选定房源" in page.content()

        with django_db_blocker.unblock():
            offer = Offer.objects.select_related("unit").get(
                household=chooser.household, round=chooser.round, status="pending"
            )
            assert offer.unit.number == number
            assert Unit.objects.get(pk=offer.unit_id).status == Unit.Status.OFFERED
            assert offer.channel == Offer.Channel.ONLINE

        page.click("button:has-text('确认配租')")
        page.locator(".msg", has_text="已确认配租").wait_for()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        with django_db_blocker.unblock():
            offer.refresh_from_db()
            chooser.household.refresh_from_db()
            assert offer.status == Offer.Status.ACCEPTED
            assert chooser.household.status == "allocated"
        assert not outside, outside
        assert not errors, errors
        browser.close()
