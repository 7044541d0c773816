"""The application's place, chosen county → street → community without JavaScript: the server
narrows each list to the choice above ("更新选项"), names every option so a street name found in
three counties cannot be confused, and refuses a street or community outside the choice above,
naming the field. The counter form offers only the clerk's own places."""

from html.parser import HTMLParser

import pytest

from backoffice.review import CounterForm
from geo.models import Region
from housing.models import Application
from tests.housing.test_identity import _form
from tests.housing.test_review_path import person, sign_in
from tests.personas import make_staff

pytestmark = pytest.mark.django_db


class Options(HTMLParser):
    """The options of one <select>, as (value, text) pairs, and the value selected."""

    def __init__(self, name: str):
        super().__init__(convert_charrefs=True)
        self.name, self.options, self._inside, self._option = name, [], False, None
        self.selected = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self._inside = attrs.get("name") == self.name
        elif tag == "option" and self._inside:
            self._option = [attrs.get("value"), ""]
            if "selected" in attrs:
                self.selected = attrs.get("value")

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None:
            self.options.append((self._option[0], self._option[1].strip()))
            self._option = None
        elif tag == "select":
            self._inside = False


def options(html: str, name: str) -> list[tuple[str, str]]:
    parser = Options(name)
    parser.feed(html)
    return parser.options


def selected(html: str, name: str) -> str | None:
    parser = Options(name)
    parser.feed(html)
    return parser.selected


def chosen_values(html: str, name: str) -> set[int]:
    return {int(value) for value, _ in options(html, name) if value}


def children(region: Region) -> set[int]:
    return set(Region.objects.filter(parent=region).values_list("pk", flat=True))


@pytest.fixture
def applicant_client(client):
    sign_in(client, "13700007001")
    return client


def test_before_a_county_is_chosen_every_street_says_its_county(applicant_client):
    html = applicant_client.get("/apply/").content.decode()
    streets = [text for value, text in options(html, "street") if value]
    assert len(streets) == Region.objects.filter(level="street").count()
    same_name = Region.objects.filter(level="street", name="胜利镇").select_related("parent")
    assert same_name.count() > 1  # the demo city repeats it in several counties
    for street in same_name:
        assert f"{street.parent.name} · 胜利镇" in streets
    assert len(set(streets)) == len(streets)  # no two options read the same
    assert options(html, "county")[0] == ("", "请选择区县")


def test_updating_the_options_narrows_streets_to_the_county_and_saves_nothing(
    applicant_client, place
):
    county, street, _ = place
    before = Application.objects.count()
    html = applicant_client.post(
        "/apply/", {"action": "places", "name": "张三", "county": county.pk}
    ).content.decode()
    assert chosen_values(html, "street") == children(county)
    assert options(html, "street")[0] == ("", "请选择街道/乡镇")
    community_ids = set(Region.objects.filter(parent__parent=county).values_list("pk", flat=True))
    assert chosen_values(html, "community") == community_ids
    assert 'value="张三"' in html  # what was typed stays
    assert "请修改以下内容" not in html and "field-error" not in html  # nothing marked wrong yet
    assert Application.objects.count() == before

    html = applicant_client.post(
        "/apply/", {"action": "places", "county": county.pk, "street": street.pk}
    ).content.decode()
    assert chosen_values(html, "community") == children(street)
    assert selected(html, "county") == str(county.pk)
    assert selected(html, "street") == str(street.pk)


def test_a_street_of_another_county_is_refused_naming_the_field(applicant_client, place):
    county = place[0]
    elsewhere = Region.objects.filter(level="street").exclude(parent=county).first()
    html = applicant_client.post(
        "/apply/", _form(place, "张三", "", action="save") | {"street": elsewhere.pk}
    ).content.decode()
    assert f"所选“街道/乡镇”不在{county.name}：请在{county.name}的街道/乡镇中重新选择。" in html
    assert not Application.objects.filter(applicant__phone="13700007001").exists()


def test_a_community_of_another_street_is_refused_naming_the_field(applicant_client, place):
    county, street, _ = place
    other = Region.objects.filter(parent__parent=county).exclude(parent=street).first()
    html = applicant_client.post(
        "/apply/", _form(place, "张三", "", action="save") | {"community": other.pk}
    ).content.decode()
    assert f"所选“社区/村”不在{street.name}：请在{street.name}的社区/村中重新选择。" in html


def test_the_counter_form_offers_only_the_clerks_places(place):
    county, street, _ = place
    clerk = make_staff("places-street-clerk", "street", region=street)
    form = CounterForm()
    form.limit_to(clerk)
    html = str(form["county"]) + str(form["street"]) + str(form["community"])
    assert chosen_values(html, "county") == {county.pk}
    assert chosen_values(html, "street") == {street.pk}
    assert chosen_values(html, "community") == children(street)


def test_the_prefill_suggests_the_county_of_the_household_registration(
    applicant_client, platform_settings
):
    name, number = person(7002)  # registered in 谯城区 (341602)
    html = applicant_client.post(
        "/apply/", {"action": "prefill", "name": name, "id_number": number}
    ).content.decode()
    county = Region.objects.get(adcode="341602")
    assert selected(html, "county") == str(county.pk)
    assert chosen_values(html, "street") == children(county)  # and its streets only
