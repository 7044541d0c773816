"""The public side of allocation: every waitlist, round and allocation notice, each version and
download, shows no ID number, no mobile number and no full name of any household."""

import re
import subprocess
import sys
from collections import deque
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest

from disclosure.models import Kind, Publication
from housing.models import Household
from tests.allocation.conftest import publish_pending
from tests.allocation.test_rounds import REPLAY
from tests.disclosure.test_crawler import ID_NUMBER, LINK, MOBILE, text_of

pytestmark = pytest.mark.django_db
KINDS = (Kind.WAITLIST, Kind.ALLOCATION_ROUND, Kind.ALLOCATION_RESULT)
NOTICE = re.compile(r"^/notices/\d+/")
MAX_PAGES = 400


def worth_following(path: str, query: str) -> bool:
    """Notice pages, their versions and downloads; list pages of the three kinds only."""
    if NOTICE.match(path):
        return not query  # ?sort= and ?q= show the same rows again
    if path == "/notices/":
        return parse_qs(query).get("kind", [""])[0] in KINDS
    return False


def test_allocation_notices_and_downloads_show_no_personal_data(client, tmp_path):
    publish_pending()  # whatever is still in the outbox, as the worker would
    households = list(Household.objects.values("head_name", "head_id_number", "phone"))
    names = {h["head_name"] for h in households if len(h["head_name"]) >= 3}
    assert len(names) >= 10, "the demo households are there to look for"

    start = [f"/notices/?kind={kind}" for kind in KINDS]
    seen, queue = set(start), deque(start)
    visited, lotteries = [], []
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        visited.append(url)
        text = text_of(response)
        assert not ID_NUMBER.findall(text), (url, ID_NUMBER.findall(text)[:3])
        assert not MOBILE.findall(text), (url, MOBILE.findall(text)[:3])
        for name in names:
            assert name not in text, (url, name)
        for household in households:
            assert household["head_id_number"] not in text and household["phone"] not in text
        if url.endswith("/lottery.json"):
            lotteries.append(text)
        if "html" not in response.get("Content-Type", ""):
            continue
        for href in LINK.findall(text):
            parts = urlsplit(urljoin(url, href.replace("&amp;", "&")))
            if parts.netloc not in ("", "testserver"):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen and worth_following(parts.path, parts.query):
                seen.add(target)
                queue.append(target)
    assert not queue, f"more than {MAX_PAGES} pages: the crawl stopped early"

    current = Publication.objects.current().filter(kind__in=KINDS)
    assert {p.kind for p in current} == set(KINDS), "the demo published all three kinds"
    for publication in current:
        base = f"/notices/{publication.series_id}/"
        assert base in seen, publication.title
        version = f"{base}v{publication.version}/"
        for download in ("items.csv", "items.xlsx", "document.json"):
            assert version + download in seen, (publication.title, download)
        if (publication.data or {}).get("lottery"):
            assert version + "lottery.json" in seen, publication.title

    # A downloaded lottery.json replays with the published script.
    assert lotteries, "the demo's draws link their lottery.json"
    path = tmp_path / "lottery.json"
    path.write_text(lotteries[0], encoding="utf-8")
    replay = subprocess.run(
        [sys.executable, str(REPLAY), str(path)], capture_output=True, text=True, timeout=60
    )
    assert replay.returncode == 0, replay.stdout + replay.stderr
