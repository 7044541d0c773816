"""The Content-Security-Policy: sent, strict and enforced on public, staff and admin pages;
and pages that need nothing it forbids. No inline script (json_script data excepted), event
handler attribute, javascript: URL or inline style, in the templates and in the HTML our code
and the map widgets emit."""

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from allocation.models import Round
from disclosure.models import Publication
from geo.basemaps import offered_basemaps
from geo.models import Estate
from tests.personas import Role, make_staff

ROOT = Path(settings.BASE_DIR)
HEADER = "Content-Security-Policy"


def policy(response) -> dict[str, list[str]]:
    assert HEADER in response, f"no {HEADER} header"
    return {
        name: values
        for name, *values in (part.split() for part in response[HEADER].split(";") if part)
    }


class InlineFinder(HTMLParser):
    """Everything in a page that a policy without 'unsafe-inline' would block."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.scripts: list[str] = []  # src of every external script
        self._inline_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> event handler")
            if name == "style":
                self.problems.append(f"<{tag} style={value!r}> inline style")
            if (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}> javascript: URL")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            if attrs.get("src"):
                self.scripts.append(attrs["src"])
            elif attrs.get("type") != "application/json":
                self._inline_script = True

    def handle_endtag(self, tag):
        if tag == "script":
            self._inline_script = False

    def handle_data(self, data):
        if self._inline_script:
            self.problems.append(f"inline <script>: {data.strip()[:80]!r}")


def inline_problems(html: str) -> tuple[list[str], list[str]]:
    finder = InlineFinder()
    finder.feed(html)
    finder.close()
    return finder.problems, finder.scripts


# --- the policy ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_policy_is_strict_and_enforced(client):
    response = client.get("/")
    assert "Content-Security-Policy-Report-Only" not in response
    assert policy(response) == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # the tile servers of the offered base maps, and no other (tests/portal/test_basemaps.py)
        "img-src": [
            "'self'",
            "data:",
            *dict.fromkeys(o for b in offered_basemaps() for o in b.tile_origins),
        ],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("csp-root", password="x-very-long-pw")


@pytest.mark.django_db
def test_every_kind_of_page_carries_the_policy(client, cast, superuser):
    estate = Estate.objects.published().first()
    public = ["/", "/units/", f"/estates/{estate.pk}/", "/notices/", "/apply/login/", "/api/docs/"]
    staff = ["/staff/", "/staff/assets/import/", f"/staff/assets/estates/{estate.pk}/edit/"]
    admin = ["/admin/", f"/admin/geo/estate/{estate.pk}/change/"]
    pages = [(url, None) for url in [*public, "/staff/login/", "/admin/login/"]]
    pages += [(url, cast.users["city"]) for url in staff]
    pages += [(url, superuser) for url in admin]
    for url, user in pages:
        client.logout()
        if user:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        directives = policy(response)
        assert directives["script-src"] == ["'self'"], url
        assert "'unsafe-inline'" not in response[HEADER], url
        assert "'unsafe-eval'" not in response[HEADER], url


def test_report_only_is_a_choice_not_the_default():
    code = (
        "import portal.settings as s;"
        "print(hasattr(s, 'CONTENT_SECURITY_POLICY'),"
        " hasattr(s, 'CONTENT_SECURITY_POLICY_REPORT_ONLY'))"
    )
    env = {**os.environ, "DJANGO_DEBUG": "true", "ANJU_CSP_REPORT_ONLY": "true"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "True"]
    assert hasattr(settings, "CONTENT_SECURITY_POLICY")
    assert not hasattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY")


# --- pages need nothing the policy forbids ---------------------------------------------------


def template_files() -> list[Path]:
    found = []
    for path in ROOT.glob("**/templates/**/*.html"):
        parts = set(path.relative_to(ROOT).parts)
        if not parts & {".venv", ".local", "node_modules", "staticfiles", ".git"}:
            found.append(path)
    return sorted(found)


def test_no_template_has_inline_script_handlers_or_styles():
    files = template_files()
    assert any(p.match("templates/base.html") for p in files)
    assert any(p.match("geo/templates/geo/widgets/map.html") for p in files)
    problems = []
    for path in files:
        found, _scripts = inline_problems(path.read_text(encoding="utf-8"))
        problems += [f"{path.relative_to(ROOT)}: {p}" for p in found]
    assert not problems, "\n".join(problems)


def vacancy_notice() -> Publication:
    """A published vacancy list whose items have coordinates: its page shows them on a map."""
    for publication in Publication.objects.current().order_by("pk"):
        if any("lon" in item for item in publication.items):
            return publication
    raise AssertionError("the demo has no vacancy notice with coordinates")


@pytest.fixture
def crawl(client, cast, superuser):
    """Pages with maps or scripts, as the people who see them: the HTML and its scripts."""
    estate = (
        Estate.objects.published().filter(boundary__isnull=False, district__adcode="341602").first()
    )
    choosing = Round.objects.filter(county__adcode="341602", status="choosing").first()
    clerk = make_staff("csp-clerk", Role.DISTRICT, region=estate.district)
    pages = {
        "/": None,
        f"/estates/{estate.pk}/": None,
        reverse("notice", args=[vacancy_notice().series_id]): None,
        reverse("api-docs"): None,
        "/staff/": clerk,
        "/staff/assets/import/": clerk,
        reverse("allocation-round", args=[choosing.pk]): clerk,
        reverse("asset-estate-edit", args=[estate.pk]): clerk,
        reverse("asset-building-new", args=[estate.pk]): clerk,
        f"/admin/geo/estate/{estate.pk}/change/": superuser,
        "/admin/geo/building/add/": superuser,
    }
    found = {}
    for url, user in pages.items():
        client.logout()
        if user:
            client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200, url
        found[url] = inline_problems(response.content.decode())
    return found


@pytest.mark.django_db
def test_pages_with_maps_and_scripts_have_nothing_inline(crawl):
    problems = [f"{url}: {p}" for url, (found, _scripts) in crawl.items() for p in found]
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_the_scripts_moved_to_files_are_loaded(crawl):
    """The inline scripts became static files: each page still loads its own."""
    expected = {
        "/": "portal/js/map.js",
        "/estates/": "portal/js/map.js",
        "/notices/": "disclosure/notice-map.js",
        "/staff/assets/import/": "backoffice/import-progress.js",
        "/staff/allocation/rounds/": "allocation/round-board.js",
        "/staff/assets/estates/": "geo/map-widget.js",
        "/admin/geo/": "geo/map-widget.js",
        "/api/docs/": "/api/docs/?script=",
    }
    for url, (_found, scripts) in crawl.items():
        for prefix, script in expected.items():
            if url.startswith(prefix) and (prefix != "/" or url == "/"):
                assert any(s.endswith(script) for s in scripts), (url, script, scripts)


@pytest.mark.django_db
def test_the_map_is_described_as_data(client):
    """The estate map's layers travel as JSON: boundary, footprints, then the entrance."""
    estate = Estate.objects.published().filter(boundary__isnull=False).first()
    html = client.get(f"/estates/{estate.pk}/").content.decode()
    start = html.index('<script id="map_estate-config" type="application/json">')
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    config = json.loads(body)
    assert 'id="map_estate" class="map-canvas" data-map-config="map_estate-config"' in html
    kinds = [layer["data"]["features"][0]["geometry"]["type"] for layer in config["layers"]]
    assert kinds[0] in ("Polygon", "MultiPolygon") and kinds[-1] == "Point"
    assert config["layers"][-1]["data"]["features"][0]["properties"]["label"] == estate.name
    assert config["bounds"] and config["basemaps"]["maps"] and config["labels"]
