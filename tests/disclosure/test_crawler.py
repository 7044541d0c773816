"""Walk every public page and download from the home page: no unmasked ID number, mobile
number or applicant name may appear anywhere the public can reach."""

import io
import re
import zipfile
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest

from tests.disclosure.conftest import PEOPLE, publish

pytestmark = pytest.mark.django_db

# Digit runs bounded by anything but letters and digits, so hex hashes cannot trip them.
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
LINK = re.compile(r'(?:href|src)="([^"#]+)"')
MAX_PAGES = 600
SKIP = ("/static/", "/admin/", "/staff/", "/api/docs/", "/api/schema/", "/tiles/")


def text_of(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body[:2] == b"PK":  # XLSX: read every XML part
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            return " ".join(archive.read(n).decode("utf-8", "ignore") for n in archive.namelist())
    return body.decode("utf-8", "ignore")


def test_no_public_page_or_download_shows_personal_data(client):
    notice = publish()
    publish(supersedes=notice, reason="更正测试")  # history pages and diffs too
    start = ["/", "/notices/", f"/notices/{notice.series_id}/v1/", "/ogc/collections?f=html"]
    seen, queue = set(start), deque(start)
    visited = 0
    while queue and visited < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        visited += 1
        assert response.status_code in (200, 204, 302, 404), (url, response.status_code)
        if response.status_code != 200:
            continue
        text = text_of(response)
        assert not ID_NUMBER.findall(text), (url, ID_NUMBER.findall(text)[:3])
        assert not MOBILE.findall(text), (url, MOBILE.findall(text)[:3])
        for person in PEOPLE:
            assert person["name"] not in text, (url, person["name"])
            assert person["id"] not in text and person["phone"] not in text
        if "html" not in response.get("Content-Type", ""):
            continue
        for href in LINK.findall(text):
            target = urljoin(url, href.replace("&amp;", "&"))
            parts = urlsplit(target)
            if parts.netloc not in ("", "testserver") or target.startswith(SKIP):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith(SKIP) or path in seen:
                continue
            seen.add(path)
            queue.append(path)
    assert visited > 50, "the crawl reached the notices, their versions and downloads"
    assert any(u.endswith("items.xlsx") for u in seen) and any(
        u.endswith("items.csv") for u in seen
    )
