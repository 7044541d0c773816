"""After signing in with the SMS code, the applicant lands on the page they were going to:
the application form, a round of theirs, an estate they were reading; never another site."""

import html
import re
from urllib.parse import urlencode

import pytest

from tests.housing.test_review_path import sign_in
from tests.housing.test_sign_in import last_code

pytestmark = pytest.mark.django_db
PHONE = "13912340001"


def main(page: str) -> str:
    """The page without its header (whose text-size form carries a `next` of its own)."""
    return page.split('<main id="main"', 1)[1]


def carried(page: str) -> dict:
    """The hidden `next` a sign-in form posts along, if it has one."""
    found = re.search(r'name="next" value="([^"]*)"', main(page))
    return {"next": html.unescape(found.group(1))} if found else {}


def sign_in_through_the_pages(client, login_url: str) -> str:
    """The two forms as a resident fills them in; the page the code form sends them to."""
    page = client.get(login_url).content.decode()
    page = client.post("/apply/login/", {"phone": PHONE, **carried(page)}).content.decode()
    assert "短信验证码" in page
    response = client.post(
        "/apply/verify/", {"phone": PHONE, "code": last_code(PHONE), **carried(page)}
    )
    assert response.status_code == 302
    return response["Location"]


@pytest.mark.parametrize("target", ["/apply/", "/my/rounds/7/", "/estates/3/?tab=units"])
def test_a_signed_out_visitor_comes_back_where_they_were_going(client, target):
    if target.startswith("/estates/"):  # a public page links to signing in with its address
        login_url = "/apply/login/?" + urlencode({"next": target})
    else:
        response = client.get(target)
        assert response.status_code == 302
        login_url = response["Location"]
        assert login_url.startswith("/apply/login/?next=")
    assert sign_in_through_the_pages(client, login_url) == target


def test_without_a_destination_the_applicant_lands_on_my_cases(client):
    assert sign_in_through_the_pages(client, "/apply/login/") == "/my/"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/my/",
        "/\\evil.example/",
        "\\\\evil.example",
        "javascript:alert(1)",
        "my/",
        "/apply/login/",
        "/apply/logout/",
    ],
)
def test_a_destination_off_this_site_or_back_to_sign_in_is_ignored(client, target):
    page = client.get("/apply/login/", {"next": target}).content.decode()
    assert 'name="next"' not in main(page)
    client.post("/apply/login/", {"phone": PHONE, "next": target})
    response = client.post(
        "/apply/verify/", {"phone": PHONE, "code": last_code(PHONE), "next": target}
    )
    assert response["Location"] == "/my/"


def test_a_signed_in_applicant_asking_to_sign_in_goes_straight_on(client):
    sign_in(client, PHONE)
    response = client.get("/apply/login/", {"next": "/apply/"})
    assert response.status_code == 302 and response["Location"] == "/apply/"
    assert client.get("/apply/login/")["Location"] == "/my/"


def test_a_wrong_code_keeps_the_destination(client):
    client.post("/apply/login/", {"phone": PHONE, "next": "/apply/"})
    wrong = "000000" if last_code(PHONE) != "000000" else "111111"
    page = client.post("/apply/verify/", {"phone": PHONE, "code": wrong, "next": "/apply/"})
    assert 'name="next" value="/apply/"' in page.content.decode()
