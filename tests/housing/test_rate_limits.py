"""The four public limits (sign-in codes, status lookups, objections, prefill) on one atomic
counter, each still refusing in Chinese, and holding under real concurrent requests."""

import threading
from datetime import date, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from archive import ratelimit
from archive.models import RateCounter
from archive.ratelimit import Rate, hit, key_for
from exchange.idcard import make_id_number
from exchange.sources import SyntheticSource
from exchange.synthetic import person_name
from housing import services
from housing.models import Applicant, OneTimeCode, SmsMessage
from tests.disclosure.conftest import publish

A, B = "198.51.100.7", "203.0.113.8"


def let_time_pass(scope: str) -> None:
    RateCounter.objects.filter(key__startswith=f"{scope}:").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


# --- the counter ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_window_counts_to_its_limit_then_starts_again():
    rate = Rate("test-window", 3, 60)
    assert [hit(rate, "x") for _ in range(4)] == [True, True, True, False]
    assert hit(rate, "y")  # another subject has its own count
    let_time_pass("test-window")
    assert hit(rate, "x")
    assert RateCounter.objects.get(key=key_for(rate, "x")).count == 1
    assert hit(rate, None) and hit(rate, "")  # nothing to count on: allowed


@pytest.mark.django_db
def test_counters_keep_no_phone_number_and_expired_ones_are_purged():
    hit(services.SEND_GAP, "13900001111")
    key = RateCounter.objects.get().key
    assert key.startswith("sms-phone-gap:") and "13900001111" not in key
    let_time_pass("sms-phone-gap")
    assert ratelimit.purge_expired() == 1 and not RateCounter.objects.exists()


# --- sign-in codes ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_codes_per_address_are_limited_across_phones(client):
    for n in range(20):
        services.send_code(f"1390000{n:04d}", ip=A)
    with pytest.raises(services.NotAllowed, match="发送次数过多，请稍后再试"):
        services.send_code("13900009998", ip=A)
    services.send_code("13900009998", ip=B)
    page = client.post("/apply/login/", {"phone": "13900009997"}, REMOTE_ADDR=A)
    assert "发送次数过多，请稍后再试" in page.content.decode()
    assert not SmsMessage.objects.filter(phone="13900009997").exists()


@pytest.mark.django_db
def test_codes_per_phone_one_a_minute_five_an_hour():
    phone = "13911112222"
    services.send_code(phone, ip=A)
    with pytest.raises(services.NotAllowed, match="验证码已发送，请一分钟后再试"):
        services.send_code(phone, ip=B)
    for _ in range(4):
        let_time_pass(services.SEND_GAP.scope)
        services.send_code(phone, ip=A)
    let_time_pass(services.SEND_GAP.scope)
    with pytest.raises(services.NotAllowed, match="发送次数过多，请一小时后再试"):
        services.send_code(phone, ip=B)
    assert OneTimeCode.objects.filter(phone=phone).count() == 5


def _race(n: int, phone: str) -> list[str]:
    """n requests for one phone at the same moment, each on its own connection."""
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def request() -> None:
        try:
            barrier.wait(timeout=10)
            services.send_code(phone, ip=None)
            outcomes.append("sent")
        except services.NotAllowed as exc:
            outcomes.append(str(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return outcomes


def _clean(phone: str, *rates: Rate) -> None:
    OneTimeCode.objects.filter(phone=phone).delete()
    SmsMessage.objects.filter(phone=phone).delete()
    RateCounter.objects.filter(key__in=[key_for(r, phone) for r in rates]).delete()


def test_concurrent_requests_get_no_more_than_the_hourly_limit(
    django_db_setup, django_db_blocker, monkeypatch
):
    """Real threads on separate connections: the count and the decision are one statement."""
    phone = "13988880001"
    # Only the hourly limit is raced: the one-a-minute gap is widened out of the way.
    monkeypatch.setattr(services, "SEND_GAP", Rate("test-race-gap", 100, 60))
    with django_db_blocker.unblock():
        try:
            outcomes = _race(12, phone)
            assert outcomes.count("sent") == services.SENDS_PER_PHONE.limit == 5
            assert outcomes.count("发送次数过多，请一小时后再试。") == 7
            assert OneTimeCode.objects.filter(phone=phone).count() == 5
        finally:
            _clean(phone, services.SEND_GAP, services.SENDS_PER_PHONE)
            connection.close()


def test_concurrent_requests_get_one_code_a_minute(django_db_setup, django_db_blocker):
    phone = "13988880002"
    with django_db_blocker.unblock():
        try:
            outcomes = _race(8, phone)
            assert outcomes.count("sent") == 1
            assert OneTimeCode.objects.filter(phone=phone).count() == 1
        finally:
            _clean(phone, services.SEND_GAP, services.SENDS_PER_PHONE)
            connection.close()


# --- status lookups ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_status_lookups_are_limited_per_address(client):
    query = {"number": "SQ2099-000001", "id6": "123456"}
    for _ in range(10):
        page = client.get("/status/", query, REMOTE_ADDR=A).content.decode()
        assert "没有查到" in page
    assert (
        "查询过于频繁，请一小时后再试"
        in client.get("/status/", query, REMOTE_ADDR=A).content.decode()
    )
    assert "没有查到" in client.get("/status/", query, REMOTE_ADDR=B).content.decode()
    let_time_pass("status-lookup-ip")
    assert "没有查到" in client.get("/status/", query, REMOTE_ADDR=A).content.decode()


# --- objections -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_objections_are_limited_per_address(client):
    notice = publish()
    url = reverse("notice-objection", args=[notice.series_id, 1])
    form = {
        "item_key": "SQ2026-0001",
        "name": "赵六",
        "contact": "x@example.cn",
        "reason": "有异议",
    }
    client.post(url, {"item_key": "SQ2026-0001"}, REMOTE_ADDR=A)  # incomplete: not counted
    for _ in range(5):
        client.post(url, form, REMOTE_ADDR=A)
    refused = client.post(url, form, REMOTE_ADDR=A, follow=True).content.decode()
    assert "提交过于频繁，请一小时后再试" in refused
    assert notice.objections.filter(ip=A).count() == 5
    accepted = client.post(url, form, REMOTE_ADDR=B, follow=True).content.decode()
    assert "异议已提交" in accepted


# --- prefill ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_prefill_is_limited_per_applicant():
    number = make_id_number("341602", date(1980, 5, 17), 41)
    name = person_name(number)
    first, second = (Applicant.objects.create(phone=p) for p in ("13966660001", "13966660002"))
    for _ in range(5):
        services.prefill(number, name, SyntheticSource(), applicant=first)
    with pytest.raises(services.NotAllowed, match="查询次数过多，请一小时后再试或手动填写"):
        services.prefill(number, name, SyntheticSource(), applicant=first)
    services.prefill(number, name, SyntheticSource(), applicant=second)
    let_time_pass("prefill-applicant")
    services.prefill(number, name, SyntheticSource(), applicant=first)
