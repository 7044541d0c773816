"""English: every public page reads in English, with Chinese left only where it is data; the
language switch works; and the catalogue translates every string the code marks.

"Data" is defined by the markup, narrowly: an element whose `lang` is Chinese (`lang="zh-Hans"`
on an estate's name, an address, a notice's title and body, a language named in itself) or that
says `translate="no"`, with everything inside it; and, in the <title> (where markup cannot say
so), the city's name and data the page marks elsewhere (the estate or notice it is named after).
Any other Han character fails, naming the page and the text.
"""

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.test import Client

from allocation.models import Round
from disclosure.models import Kind, Publication
from geo.models import Estate
from housing.models import Applicant, Application, Household
from layers.registry import LAYERS

pytestmark = pytest.mark.django_db

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# Attributes a reader meets as text: shown on hover, read by a screen reader, or in the field.
TEXT_ATTRIBUTES = ("alt", "title", "placeholder", "aria-label", "aria-description", "label")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr"}
BUDGET = 150  # pages the crawl may fetch beyond the known ones
# Not pages for a reader: the back office, files, feeds, machine formats and the switch itself.
SKIP = re.compile(
    r"^/(staff|admin|static|media|tiles|jsi18n|i18n|api/(?!docs/))"
    r"|\.(csv|xlsx|json|atom|pdf|pbf|py)$"
)


class PageText(HTMLParser):
    """The text of a page as a reader meets it, split into data and the rest; its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.data: list[str] = []
        self.title: list[str] = []
        self.links: list[str] = []
        self.html_lang: str | None = None
        self._open: list[tuple[str, bool]] = []  # open elements, each with "is it data"
        self._skip = 0  # inside <script> or <style>
        self._in_title = False

    def _is_data(self, attrs: dict) -> bool:
        """An element is data when it (or its nearest ancestor that says) is in Chinese or
        not to be translated; an element in another language inside data is not."""
        if attrs.get("lang") is not None:
            return attrs["lang"].lower().startswith("zh")
        if attrs.get("translate") is not None:
            return attrs["translate"] == "no"
        return bool(self._open) and self._open[-1][1]

    def handle_starttag(self, tag: str, attr_list: list) -> None:
        attrs = dict(attr_list)
        if tag == "html":
            self.html_lang = attrs.get("lang")
            return
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        data = self._is_data(attrs)
        if tag not in VOID:
            self._open.append((tag, data))
        if tag in ("script", "style"):
            self._skip += 1
        self._in_title = self._in_title or tag == "title"
        shown = [f"[{name}] {attrs[name]}" for name in TEXT_ATTRIBUTES if attrs.get(name)]
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset"):
            shown.append(f"[value] {attrs.get('value') or ''}")
        (self.data if data else self.texts).extend(shown)

    def handle_startendtag(self, tag: str, attr_list: list) -> None:
        self.handle_starttag(tag, attr_list)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        # Close up to the matching open element (tolerates an omitted </li> or </p>).
        if any(t == tag for t, _ in self._open):
            while self._open.pop()[0] != tag:
                pass
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)
        if tag == "title":
            self._in_title = False

    def handle_data(self, text: str) -> None:
        text = text.strip()
        if self._skip or not text:
            return
        if self._in_title:
            self.title.append(text)
        else:
            (self.data if self._open and self._open[-1][1] else self.texts).append(text)

    def chinese(self) -> list[str]:
        """Every piece of non-data text holding a Han character. The <title> may name the
        city, and repeat data the page marks (an estate's or a notice's name)."""
        title = " ".join(self.title)
        for text in sorted(self.data, key=len, reverse=True):
            title = title.replace(text, "")  # data first: a notice's title names the city too
        title = title.replace(settings.ANJU_CITY_NAME, "")
        return [text for text in [title, *self.texts] if HAN.search(text)]


def english_client() -> Client:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def known_pages() -> list[str]:
    """The pages a visitor reaches, each kind once, with real rows from the demo city."""
    estate = Estate.objects.published().order_by("pk").first()
    pages = [
        "/",
        "/units/",
        f"/estates/{estate.pk}/",
        "/notices/",
        "/status/",
        "/self-check/",
        "/apply/login/",
        "/search/?q=xfjy",
        f"/search/?q={estate.name[:2]}",
        "/locate/?at=115.78,33.85",
        "/policy/",
        "/guide/",
        "/contact/",
        "/ogc/?f=html",
        "/ogc/conformance?f=html",
        "/ogc/collections?f=html",
        "/api/docs/",
    ]
    for kind in Kind.values:
        publication = Publication.objects.filter(kind=kind).order_by("-pk").first()
        if publication is not None:
            pages.append(f"/notices/{publication.series_id}/")
    for name in LAYERS:
        pages += [f"/ogc/collections/{name}?f=html", f"/ogc/collections/{name}/items?f=html"]
    household = Household.objects.order_by("pk").first()
    if household is not None:
        pages.append(f"/status/?key={household.public_key}")
    application = Application.objects.exclude(stage="draft").order_by("pk").first()
    if application is not None:
        pages.append(f"/status/?number={application.number}&id6={application.id_number[-6:]}")
    county = Estate.objects.published().order_by("pk").first().district
    pages.append(
        f"/self-check/?county={county.pk}&members=3&monthly_income=3000&property_area=0"
        "&property_count=0&vehicle_value=0&business_count=0&residence_years=5&insured_years=3"
    )
    return pages


def shape(url: str) -> str:
    """Pages of one kind share a shape (/estates/N/ + the query's names): crawl each once."""
    parts = urlsplit(url)
    names = sorted({name for name, _ in parse_qsl(parts.query, keep_blank_values=True)})
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(names)


def same_site(href: str) -> str | None:
    parts = urlsplit(href)
    if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "testserver"):
        return None
    if not parts.path.startswith("/") or SKIP.search(parts.path):
        return None
    if dict(parse_qsl(parts.query)).get("f") == "json":
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def walk(client: Client, known: list[str], budget: int) -> tuple[set[str], list[str]]:
    """The known pages and, within the budget, pages of other shapes they link to: the pages
    seen, and every piece of Chinese outside data on them."""
    queue = deque(known)
    seen_urls, seen_shapes, crawled, problems = set(), set(), 0, []
    known = set(known)
    while queue:
        url = queue.popleft()
        if url in seen_urls or (url not in known and shape(url) in seen_shapes):
            continue
        if url not in known:
            if crawled >= budget:
                continue
            crawled += 1
        seen_urls.add(url)
        seen_shapes.add(shape(url))
        response = client.get(url)
        if response.status_code in (301, 302, 303):
            queue.append(same_site(response["Location"]) or "/")
            continue
        assert response.status_code == 200, f"{url} answered {response.status_code}"
        if not response["Content-Type"].startswith("text/html"):
            continue
        page = PageText()
        page.feed(response.content.decode())
        assert page.html_lang == "en", f"{url}: <html lang={page.html_lang!r}>"
        problems += [f"{url}: {text[:160]}" for text in page.chinese()]
        queue.extend(filter(None, map(same_site, page.links)))
    return seen_urls, problems


def test_every_public_page_reads_in_english():
    pages = known_pages()
    seen, problems = walk(english_client(), pages, BUDGET)
    assert len(seen) > len(pages), "the crawl found no page beyond the known ones"
    assert not problems, "Chinese outside data on English pages:\n" + "\n".join(problems)


def test_a_residents_own_pages_read_in_english():
    """Signed in, with a turn to choose in the demo's open round: /my/ and the choosing page."""
    round_ = Round.objects.get(status=Round.Status.CHOOSING)
    slot = round_.slots.filter(status="waiting").select_related("household").first()
    client = english_client()
    session = client.session
    session["applicant_id"] = slot.household.applicant_id
    session.save()
    pages = ["/my/", f"/my/rounds/{round_.pk}/"]
    seen, problems = walk(client, pages, budget=10)
    assert set(pages) <= seen
    newcomer = english_client()  # and someone signed in for the first time, at the form
    session = newcomer.session
    session["applicant_id"] = Applicant.objects.create(phone="13655559901").pk
    session.save()
    problems += walk(newcomer, ["/apply/"], budget=0)[1]
    assert not problems, "Chinese outside data on a resident's pages:\n" + "\n".join(problems)


def test_the_walk_would_see_chinese_outside_data():
    """The check itself: UI text is caught, data and the city's name in the title are not."""
    page = PageText()
    page.feed(
        f'<html lang="en"><title>Map · {settings.ANJU_CITY_NAME}</title>'
        '<p>Vacant units <span lang="zh-Hans">幸福<b>家园</b></span></p>'
        '<ul><li translate="no">谯城区<li>Next</ul><img alt="地图"><p>共 3 套</p>'
        '<select lang="zh-Hans"><option lang="en">All</option><optgroup label="谯城区">'
        '<option>汤陵街道</option></optgroup></select><p lang="zh-Hans">幸福 <b lang="en">户型</b>'
        "</p></html>"
    )
    assert page.chinese() == ["[alt] 地图", "共 3 套", "户型"]
    assert page.html_lang == "en"


def test_the_language_switch_posts_and_the_next_page_is_english(client):
    home = client.get("/units/").content.decode()
    assert '<html lang="zh-Hans"' in home
    assert 'action="/i18n/setlang/"' in home and 'name="next" value="/units/"' in home
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/units/"}, follow=True)
    assert response.redirect_chain == [("/units/", 302)]
    html = response.content.decode()
    assert '<html lang="en"' in html
    assert "Vacant units" in html and "空置房源列表" not in html
    assert '<option value="en" lang="en" selected>English</option>' in html
    back = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"}, follow=True)
    assert '<html lang="zh-Hans"' in back.content.decode()


def test_an_english_browser_gets_english_without_choosing():
    html = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/").content.decode()
    assert '<html lang="en"' in html and "Map of vacant" in html


def test_the_staff_pages_switch_language_too(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/staff/login/").content.decode()
    assert '<html lang="en"' in html and 'action="/i18n/setlang/"' in html


def test_page_scripts_get_their_strings_from_the_javascript_catalogue():
    response = english_client().get("/jsi18n/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "django.gettext" in body
    assert "suggestions" in body  # a string of static/portal/js/search.js, in English
    html = english_client().get("/").content.decode()
    assert html.index('src="/jsi18n/"') < html.index("portal/js/search.js")
