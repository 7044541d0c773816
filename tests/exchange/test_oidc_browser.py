"""In Chromium at 375 px, against Anju served by gunicorn and the demo provider in its own
process: a resident opens /apply/, signs in through 统一身份认证, comes back to /apply/ and finds
the verified name and ID number filled in and locked — applying without typing an ID."""

import pytest
from playwright.sync_api import sync_playwright

from exchange.demo_idp import RESIDENTS
from tests.conftest import _serve, _stop
from tests.e2e.test_map_browser import CHROMIUM_ARGS
from tests.exchange.test_oidc import start_provider, stop

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def oidc_site(django_db_setup, django_db_blocker, data_platform):
    provider, issuer = start_provider()
    base, served = _serve(data_platform, ANJU_OIDC_ISSUER=issuer)
    yield base, issuer
    _stop(served, django_db_blocker)
    stop(provider)


def test_a_resident_signs_in_through_the_provider_and_applies_without_typing_an_id(oidc_site):
    site, issuer = oidc_site
    person = RESIDENTS[1]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 375, "height": 800})
        page.goto(f"{site}/apply/")
        assert "/apply/login/" in page.url
        page.click("text=政务服务网统一身份认证登录")
        page.locator("text=选择登录的居民").wait_for()
        assert page.url.startswith(f"{issuer}/authorize?")
        page.click(f"text={person.name}")
        page.click("button:has-text('同意并登录')")
        page.locator("#id_name").wait_for()
        assert page.url == f"{site}/apply/"  # the deep link survived the round trip
        assert page.input_value("#id_name") == person.name
        assert page.input_value("#id_id_number") == person.id_number
        assert page.get_attribute("#id_id_number", "readonly") is not None
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        page.click("text=查询部门数据，自动填写家庭信息")
        page.wait_for_load_state()
        assert "已从公安户籍读取家庭成员" in page.content()
        assert page.input_value("#id_id_number") == person.id_number
        browser.close()
