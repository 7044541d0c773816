"""H5 in a host app's WebView (皖事通): a web app manifest with its icons, a header the host
can hide (`?embed=1` for the visit, `ANJU_EMBEDDED` always) while the title, the language switch
and the skip link stay, deep links that survive signing in, and no pop-ups a WebView drops."""

import json
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from PIL import Image
from playwright.sync_api import sync_playwright

from disclosure.models import Publication
from geo.models import Estate
from tests.e2e.test_map_browser import CHROMIUM_ARGS
from tests.exchange import test_oidc as flow
from tests.housing.test_sign_in import last_code

idp, provider = flow.idp, flow.provider  # the demo provider's process and settings

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
HEADER = '<header class="site-header"'
FOOTER = '<footer class="site-footer"'
RESIDENT_PAGES = ["/", "/units/", "/notices/", "/status/", "/apply/login/", "/self-check/"]


def _static_file(url: str) -> Path:
    found = finders.find(url.removeprefix("/static/"))
    assert found, url
    return Path(found)


def test_the_manifest_names_the_app_in_the_site_colour_with_its_icons(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest["name"] == "安居·公租房"
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    header_colour = re.search(
        r"\.site-header \{[^}]*background: (#[0-9a-f]{6})",
        (ROOT / "static/portal/site.css").read_text(),
    ).group(1)
    assert manifest["theme_color"] == header_colour

    pngs = {i["sizes"]: i for i in manifest["icons"] if i["type"] == "image/png"}
    assert {"192x192", "512x512"} <= set(pngs)
    for sizes, icon in pngs.items():
        width, height = (int(n) for n in sizes.split("x"))
        with Image.open(_static_file(icon["src"])) as image:
            assert image.size == (width, height) and image.format == "PNG"
    assert any(
        i["type"] == "image/svg+xml" and _static_file(i["src"]).read_text().startswith("<svg")
        for i in manifest["icons"]
    )
    assert any("maskable" in i["purpose"] for i in manifest["icons"])


def test_every_page_links_the_manifest_touch_icon_and_theme_colour(client):
    page = client.get("/").content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', page).group(1)
    with Image.open(_static_file(touch)) as image:
        assert image.size == (180, 180)
    assert '<meta name="theme-color" content="#1f3b57">' in page


def _embedded(page: str) -> bool:
    return HEADER not in page and FOOTER not in page


@pytest.mark.parametrize("path", RESIDENT_PAGES)
def test_embed_hides_the_header_but_keeps_title_language_and_skip_link(client, path):
    normal = client.get(path).content.decode()
    assert HEADER in normal and FOOTER in normal and 'id="site-nav"' in normal

    page = client.get(path, {"embed": "1"}).content.decode()
    assert _embedded(page) and 'id="site-nav"' not in page and 'id="search-q"' not in page
    assert re.search(r"<h1[ >]", page)
    assert 'id="language-select"' in page and 'class="text-size"' in page
    assert '<a class="skip-link" href="#main">' in page and '<main id="main"' in page


def test_the_choice_is_kept_for_the_visit_until_embed_0(client):
    client.get("/", {"embed": "1"})
    estate = Estate.objects.published().order_by("pk").first()
    notice = Publication.objects.current().order_by("-published_at").first()
    details = [f"/estates/{estate.pk}/", f"/notices/{notice.series_id}/"]
    for path in RESIDENT_PAGES + details:  # the links a resident follows carry no parameter
        assert _embedded(client.get(path).content.decode()), path
    assert HEADER in client.get("/units/", {"embed": "0"}).content.decode()
    assert HEADER in client.get("/").content.decode()
    other = type(client)()  # another visitor is not affected
    assert HEADER in other.get("/").content.decode()


def test_the_setting_hides_the_header_always(client, settings):
    settings.ANJU_EMBEDDED = True
    assert _embedded(client.get("/").content.decode())
    assert _embedded(client.get("/", {"embed": "0"}).content.decode())


@pytest.mark.parametrize("target", ["/apply/", "/my/", "/status/"])
def test_a_deep_link_survives_sms_sign_in_and_stays_embedded(client, target):
    phone = "13900003750"
    client.get(target, {"embed": "1"})
    login = "/apply/login/?" + f"next={target}"
    page = client.get(login).content.decode()
    assert _embedded(page)
    assert f'name="next" value="{target}"' in page or target == "/my/"  # /my/ is the default
    client.post("/apply/login/", {"phone": phone, "next": target})
    response = client.post(
        "/apply/verify/", {"phone": phone, "code": last_code(phone), "next": target}
    )
    assert response.status_code == 302 and response["Location"] == target
    landed = client.get(target)
    assert landed.status_code == 200 and _embedded(landed.content.decode())


def test_signed_out_visits_to_my_and_apply_ask_to_sign_in_with_the_way_back(client):
    for target in ("/my/", "/apply/"):
        response = client.get(target)
        assert response.status_code == 302
        assert response["Location"] == f"/apply/login/?next={target}"


@pytest.mark.parametrize("target", ["/apply/", "/my/", "/status/"])
def test_a_deep_link_survives_the_provider_sign_in_and_stays_embedded(client, provider, target):
    client.get("/", {"embed": "1"})
    response = flow.sign_in(client, 3, target)
    assert response.status_code == 302 and response["Location"] == target
    landed = client.get(target)
    assert landed.status_code == 200 and _embedded(landed.content.decode())


def test_the_staff_sign_in_page_offers_the_provider_when_configured(client, settings):
    settings.ANJU_OIDC_ISSUER = "http://127.0.0.1:9"
    page = client.get("/staff/login/", {"next": "/staff/review/"}).content.decode()
    assert "使用政务服务网统一身份认证登录" in page
    assert 'href="/login/oidc/staff/?next=/staff/review/"' in page
    settings.ANJU_OIDC_ISSUER = ""
    assert "统一身份认证" not in client.get("/staff/login/").content.decode()


POPUP = re.compile(r"""target\s*=\s*["']?_blank|window\.open\s*\(""")


def test_no_resident_page_or_script_opens_a_pop_up():
    """A WebView drops new windows: every link opens in place."""
    files = [
        p
        for p in (ROOT / "templates").rglob("*.html")
        if "staff" not in p.relative_to(ROOT / "templates").parts
    ]
    files += list((ROOT / "static").rglob("*.js"))
    assert len(files) > 30
    offending = [str(p.relative_to(ROOT)) for p in files if POPUP.search(p.read_text())]
    assert offending == []


def test_the_pop_up_check_can_fail():
    assert POPUP.search('<a href="/x" target="_blank">')
    assert POPUP.search("window.open (url)")


@pytest.mark.browser
def test_a_resident_applies_at_375_px_with_the_header_hidden(site_url):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 375, "height": 740}, locale="zh-CN", has_touch=True, is_mobile=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{site_url}/?embed=1")
        assert page.locator(".site-header, .site-footer, #site-nav").count() == 0
        assert page.locator("h1").first.is_visible()
        assert page.locator("#language-select").is_visible()
        # The skip link is the first stop and still takes the keyboard to the page.
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"

        page.goto(f"{site_url}/apply/")  # a deep link, signed out: sign in, then back
        assert "/apply/login/" in page.url and page.locator(".site-header").count() == 0
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        phone = "13900003751"
        page.fill("#id_phone", phone)
        page.tap("text=获取验证码")
        page.locator("#id_code").wait_for()
        assert page.locator(".site-header").count() == 0
        page.fill("#id_code", last_code(phone))
        page.tap("button:has-text('登录')")
        page.locator("#id_name").wait_for()
        assert page.url == f"{site_url}/apply/"  # the deep link survived signing in
        assert page.locator(".site-header, .site-footer").count() == 0
        assert page.locator("h1", has_text="公共租赁住房申请").is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 375

        page.select_option("#language-select", "en")
        page.click("button:has-text('切换语言')")
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.locator(".site-header").count() == 0 and page.locator("h1").first.is_visible()
        assert errors == []
        context.close()
        browser.close()
