"""X-Forwarded-For is believed only from a trusted proxy, everywhere an address is used:
sign-in lockouts, rate limits, objections, sign-in codes and access records."""

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.urls import reverse

from archive.client_ip import client_ip
from archive.models import AccessRecord
from housing.models import OneTimeCode
from portal.settings import _proxy_networks
from tests.disclosure.conftest import publish
from tests.personas import PASSWORD

PROXY = "10.0.0.5"
CLIENT = "198.51.100.23"


def address(remote: str | None, forwarded: str | None = None) -> str | None:
    meta = {"REMOTE_ADDR": remote or ""}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **meta))


@pytest.fixture
def behind_proxy(settings):
    settings.ANJU_TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"]
    return settings


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.ANJU_TRUSTED_PROXIES = []
    assert address(CLIENT, "1.2.3.4") == CLIENT
    assert address(PROXY, "1.2.3.4") == PROXY


def test_a_peer_that_is_not_a_proxy_cannot_name_its_address(behind_proxy):
    assert address(CLIENT, "1.2.3.4") == CLIENT


def test_from_a_trusted_proxy_the_right_most_other_address_counts(behind_proxy):
    assert address(PROXY, CLIENT) == CLIENT
    # The client wrote "1.2.3.4" itself; our two proxies appended what they saw.
    assert address(PROXY, f"1.2.3.4, {CLIENT}, 192.0.2.1") == CLIENT
    assert address("2001:db8::7", "2001:db8::8, 2400:cb00::1") == "2400:cb00::1"


def test_odd_headers_fall_back_to_the_proxy_never_to_the_clients_word(behind_proxy):
    assert address(PROXY) == PROXY
    assert address(PROXY, "") == PROXY
    assert address(PROXY, "10.0.0.9, 192.0.2.1") == PROXY  # only proxies in the chain
    assert address(PROXY, "1.2.3.4, not-an-address") == PROXY
    assert address(None) is None


def test_a_misspelt_proxy_stops_the_start(monkeypatch):
    monkeypatch.setenv("ANJU_TRUSTED_PROXIES", "10.0.0.0/8, 10.0.0.300")
    with pytest.raises(ImproperlyConfigured, match=r"10\.0\.0\.300"):
        _proxy_networks("ANJU_TRUSTED_PROXIES")
    monkeypatch.setenv("ANJU_TRUSTED_PROXIES", "10.0.0.0/8,fd00::/8")
    assert _proxy_networks("ANJU_TRUSTED_PROXIES") == ["10.0.0.0/8", "fd00::/8"]


# --- where the address is used ----------------------------------------------------------------


@pytest.mark.django_db
def test_spoofed_headers_do_not_escape_the_lookup_limit(client, settings):
    settings.ANJU_TRUSTED_PROXIES = []
    query = {"number": "SQ2099-000001", "id6": "123456"}
    for n in range(10):
        client.get("/status/", query, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR=f"1.1.1.{n}")
    page = client.get("/status/", query, REMOTE_ADDR=CLIENT, HTTP_X_FORWARDED_FOR="1.1.1.99")
    assert "查询过于频繁" in page.content.decode()


@pytest.mark.django_db
def test_behind_our_proxy_each_client_has_its_own_limit(client, behind_proxy):
    query = {"number": "SQ2099-000001", "id6": "123456"}
    for _ in range(11):
        client.get("/status/", query, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CLIENT)
    other = client.get("/status/", query, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="203.0.113.1")
    assert "没有查到" in other.content.decode()


@pytest.mark.django_db
def test_sign_in_lockout_keys_on_the_forwarded_client(client, cast, behind_proxy):
    def sign_in(password: str, forwarded: str):
        return client.post(
            reverse("staff-login"),
            {"username": "p-district", "password": password},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    for _ in range(5):
        sign_in("wrong", CLIENT)
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {CLIENT}
    assert sign_in(PASSWORD, CLIENT).status_code == 429
    # Another office behind the same proxy is not locked out with it.
    assert sign_in(PASSWORD, "203.0.113.1").status_code == 302


@pytest.mark.django_db
def test_objections_codes_and_access_records_store_the_client(client, cast, behind_proxy):
    via_proxy = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": f"6.6.6.6, {CLIENT}"}
    notice = publish()
    form = {"item_key": "SQ2026-0001", "name": "赵六", "contact": "x@example.cn", "reason": "异议"}
    client.post(reverse("notice-objection", args=[notice.series_id, 1]), form, **via_proxy)
    assert notice.objections.get().ip == CLIENT
    client.post("/apply/login/", {"phone": "13977770000"}, **via_proxy)
    assert OneTimeCode.objects.get(phone="13977770000").ip == CLIENT
    client.force_login(cast.users["district"])
    estate = cast.inside["district"]
    assert client.get(reverse("asset-estate", args=[estate.pk]), **via_proxy).status_code == 200
    assert AccessRecord.objects.filter(subject_type="estate").latest("at").ip == CLIENT
