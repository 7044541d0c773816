"""Applicants sign in with a one-time code sent through the SMS backend; codes are rate limited."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from archive.models import RateCounter
from housing import services
from housing.models import OneTimeCode, SmsMessage

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


def last_code(phone: str = PHONE) -> str:
    return re.search(
        r"\d{6}", SmsMessage.objects.filter(phone=phone).latest("created_at").text
    ).group()


def let_time_pass(scope: str) -> None:
    """The rate windows of `scope` close, as if their time had passed."""
    RateCounter.objects.filter(key__startswith=f"{scope}:").update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )


def test_code_by_sms_signs_in_through_the_pages(client):
    client.post("/apply/login/", {"phone": PHONE})
    response = client.post("/apply/verify/", {"phone": PHONE, "code": last_code()})
    assert response.status_code == 302 and response["Location"] == "/my/"
    assert "我的申请" in client.get("/my/").content.decode()
    assert OneTimeCode.objects.get(phone=PHONE).code_hash != last_code()  # only a hash is kept


def test_the_code_hash_is_keyed_with_the_secret_key(settings):
    services.send_code(PHONE, ip=None)
    code, stored = last_code(), OneTimeCode.objects.get(phone=PHONE).code_hash
    assert stored != hashlib.sha256(f"{PHONE}:{code}".encode()).hexdigest()
    settings.SECRET_KEY = "another-key-" + "x" * 50
    with pytest.raises(services.NotAllowed, match="验证码不正确"):
        services.verify_code(PHONE, code)  # the same code, another key: no longer matches


def test_wrong_codes_are_counted_and_spoil_the_code():
    services.send_code(PHONE, ip="10.0.0.1")
    code = last_code()
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        with pytest.raises(services.NotAllowed, match=f"还可尝试 {left} 次"):
            services.verify_code(PHONE, wrong)
    with pytest.raises(services.NotAllowed, match="失效"):
        services.verify_code(PHONE, wrong)
    with pytest.raises(services.NotAllowed, match="失效"):
        services.verify_code(PHONE, code)  # even the right one, now


def test_codes_expire_and_are_single_use():
    services.send_code(PHONE, ip=None)
    code = last_code()
    assert services.verify_code(PHONE, code).phone == PHONE
    with pytest.raises(services.NotAllowed):
        services.verify_code(PHONE, code)
    OneTimeCode.objects.update(created_at=timezone.now() - timedelta(hours=2))
    let_time_pass(services.SEND_GAP.scope)
    services.send_code(PHONE, ip=None)
    OneTimeCode.objects.filter(used_at__isnull=True).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    with pytest.raises(services.NotAllowed, match="失效"):
        services.verify_code(PHONE, last_code())


def test_sending_is_rate_limited():
    services.send_code(PHONE, ip=None)
    with pytest.raises(services.NotAllowed, match="一分钟"):
        services.send_code(PHONE, ip=None)
    for _ in range(4):
        let_time_pass(services.SEND_GAP.scope)
        services.send_code(PHONE, ip=None)
    let_time_pass(services.SEND_GAP.scope)
    with pytest.raises(services.NotAllowed, match="一小时"):
        services.send_code(PHONE, ip=None)
    let_time_pass(services.SEND_GAP.scope)
    let_time_pass(services.SENDS_PER_PHONE.scope)
    services.send_code(PHONE, ip=None)  # an hour later
    with pytest.raises(services.NotAllowed, match="11 位"):
        services.send_code("12345", ip=None)


def test_dev_inbox_shows_messages_only_in_debug(client, settings):
    services.send_code(PHONE, ip=None)
    settings.DEBUG = True
    assert last_code() in client.get("/dev/sms/").content.decode()
    settings.DEBUG = False
    assert client.get("/dev/sms/").status_code == 404
