"""Walk every public page and download from the home page: every link the site prints
answers, and no unmasked ID number, mobile number or applicant name appears anywhere the
public can reach."""

import io
import re
import zipfile
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings

from tests.disclosure.conftest import PEOPLE, publish

pytestmark = pytest.mark.django_db

# Digit runs bounded by anything but letters and digits, so hex hashes cannot trip them.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
LINK = re.compile(r'(?:href|src)="([^"#]+)"')
MAX_PAGES = 5000  # a safety stop only: the crawl must finish well before it
# Answered and checked, but not read or followed: files, the API's docs, tiles, other apps.
CHECK_ONLY = ("/static/", "/admin/", "/staff/", "/api/docs/", "/api/schema/", "/tiles/")
# Links whose intended answer is a redirect: the back office and the admin send visitors to
# their sign-in pages, the unified sign-in to the identity provider (or back to the sign-in
# page, saying the provider is down). Any other link must answer 200 (204: an empty tile).
REDIRECTS_TO = {
    "/staff/": ("/staff/login/",),
    "/admin/": ("/admin/login/",),
    "/login/oidc/": (settings.ANJU_OIDC_ISSUER or "/apply/login/", "/apply/login/"),
}


def text_of(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body[:2] == b"PK":  # XLSX: read every XML part
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return " ".join(archive.read(n).decode("utf-8", "ignore") for n in archive.namelist())
    return body.decode("utf-8", "ignore")


def check_answer(url: str, response, found_on: str) -> None:
    """A link the site itself printed answers as intended: a 404 there is a broken link."""
    where = f"{url} (linked from {found_on})"
    prefix = next((p for p in REDIRECTS_TO if url.startswith(p)), None)
    if prefix and response.status_code == 302:
        assert response["Location"].startswith(REDIRECTS_TO[prefix]), where
    elif url.startswith("/tiles/"):
        assert response.status_code in (200, 204), (where, response.status_code)
    else:
        assert response.status_code == 200, (where, response.status_code)


def test_every_public_link_answers_and_no_page_or_download_shows_personal_data(client):
    notice = publish()
    publish(supersedes=notice, reason="更正测试")  # history pages and diffs too
    start = ["/", "/notices/", f"/notices/{notice.series_id}/v1/", "/ogc/collections?f=html"]
    found_on = dict.fromkeys(start, "the start list")
    queue = deque(start)
    visited = 0
    while queue:
        assert visited < MAX_PAGES, f"more than {MAX_PAGES} public pages: is a link looping?"
        url = queue.popleft()
        response = client.get(url)
        visited += 1
        check_answer(url, response, found_on[url])
        text = text_of(response)  # read to the end, so a streamed file is closed
        if url.startswith(CHECK_ONLY) or response.status_code != 200:
            continue
        assert not ID_NUMBER.findall(text), (url, ID_NUMBER.findall(text)[:3])
        assert not MOBILE.findall(text), (url, MOBILE.findall(text)[:3])
        for person in PEOPLE:
            assert person["name"] not in text, (url, person["name"])
            assert person["id"] not in text and person["phone"] not in text
        if "html" not in response.get("Content-Type", ""):
            continue
        for href in LINK.findall(text):
            target = urlsplit(urljoin(url, href.replace("&amp;", "&")))
            if target.scheme not in ("", "http", "https"):  # tel:, mailto:
                continue
            if target.netloc not in ("", "testserver"):  # another site
                continue
            path = target.path + (f"?{target.query}" if target.query else "")
            if path not in found_on:
                found_on[path] = url
                queue.append(path)
    assert visited > 50, "the crawl reached the notices, their versions and downloads"
    assert any(u.endswith("items.xlsx") for u in found_on) and any(
        u.endswith("items.csv") for u in found_on
    )
