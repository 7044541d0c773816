"""One lockout at every door, per username and address, a limit per address across usernames,
and staff sessions that end after an idle half hour or a working day."""

import re
import time
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

from backoffice.staff_sessions import SEEN_AT, SIGNED_IN_AT
from housing.models import SmsMessage
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

STAFF_DOOR, ADMIN_DOOR = "/staff/login/", "/admin/login/"
HOME = "198.51.100.10"
ELSEWHERE = "203.0.113.20"


@pytest.fixture
def clerk(cast):
    """A city clerk who may also use the admin site: both doors open for the right password."""
    user = cast.users["city"]
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def sign_in(client, door: str, password: str, username: str = "p-city", ip: str = HOME):
    return client.post(door, {"username": username, "password": password}, REMOTE_ADDR=ip)


def opens_back_office(client) -> bool:
    response = client.get("/staff/")
    return response.status_code == 200


def test_both_doors_open_for_the_right_password(client, clerk):
    assert sign_in(client, ADMIN_DOOR, PASSWORD).status_code == 302
    assert opens_back_office(client)
    client.logout()
    assert sign_in(client, STAFF_DOOR, PASSWORD).status_code == 302
    assert opens_back_office(client)


def test_failures_at_the_admin_door_lock_both_doors(client, clerk):
    for _ in range(7):
        sign_in(client, ADMIN_DOOR, "wrong")
    refused = sign_in(client, ADMIN_DOOR, PASSWORD)
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "登录失败次数过多，账户已暂时锁定，请 15 分钟后再试。" in page
    assert not opens_back_office(client)
    assert sign_in(client, STAFF_DOOR, PASSWORD).status_code == 429
    assert not opens_back_office(client)
    assert client.get("/admin/").status_code == 302


def test_failures_at_the_staff_door_lock_the_admin_door(client, clerk):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, STAFF_DOOR, "wrong")
    assert sign_in(client, ADMIN_DOOR, PASSWORD).status_code == 429
    assert not opens_back_office(client)


def test_a_lock_from_one_address_does_not_lock_the_clerk_out_elsewhere(client, clerk):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, STAFF_DOOR, "wrong", ip=ELSEWHERE)
    assert sign_in(client, STAFF_DOOR, PASSWORD, ip=ELSEWHERE).status_code == 429
    assert sign_in(client, STAFF_DOOR, PASSWORD, ip=HOME).status_code == 302
    assert opens_back_office(client)


def test_the_lock_ends_after_the_cool_off(client, clerk):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, STAFF_DOOR, "wrong")
    assert sign_in(client, STAFF_DOOR, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert sign_in(client, STAFF_DOOR, PASSWORD).status_code == 302


def test_spraying_many_usernames_from_one_address_is_stopped(client, clerk):
    sprayer = "192.0.2.66"
    limit = settings.ANJU_LOGIN_ADDRESS_FAILURE_LIMIT
    assert limit > settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):
        response = sign_in(client, STAFF_DOOR, "Password1", username=f"user{n}", ip=sprayer)
        assert response.status_code == 200  # one try per username never locks that username
    assert sign_in(client, ADMIN_DOOR, "Password1", username="last", ip=sprayer).status_code == 429
    # Even the right password of a real clerk is refused from that address, at either door ...
    assert sign_in(client, STAFF_DOOR, PASSWORD, ip=sprayer).status_code == 429
    assert sign_in(client, ADMIN_DOOR, PASSWORD, ip=sprayer).status_code == 429
    assert not opens_back_office(client)
    # ... but not from the clerk's own desk.
    assert sign_in(client, STAFF_DOOR, PASSWORD, ip=HOME).status_code == 302


# --- staff sessions -----------------------------------------------------------------------


def stored_expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_a_staff_session_ends_after_half_an_idle_hour(client, clerk):
    assert sign_in(client, STAFF_DOOR, PASSWORD).status_code == 302
    assert opens_back_office(client)
    left = stored_expiry(client) - timezone.now()
    assert timedelta(minutes=29) < left <= timedelta(minutes=30)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert client.get("/staff/").status_code == 302


def test_activity_keeps_a_staff_session_alive(client, clerk):
    client.force_login(clerk)
    session = client.session
    session[SEEN_AT] -= 20 * 60  # last seen twenty minutes ago
    session.save()
    Session.objects.filter(session_key=session.session_key).update(
        expire_date=timezone.now() + timedelta(minutes=10)
    )
    assert opens_back_office(client)
    assert stored_expiry(client) - timezone.now() > timedelta(minutes=29)


def test_a_staff_session_ends_a_working_day_after_sign_in(client, clerk):
    client.force_login(clerk)
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - 9 * 3600
    session.save()
    assert opens_back_office(client)
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - 10 * 3600 - 60
    session.save()
    response = client.get("/staff/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("staff-login"))
    assert client.get("/admin/").status_code == 302  # signed out, not only turned away


def test_the_admin_door_gets_the_same_session_limits(client, cast, django_user_model):
    admin = django_user_model.objects.create_superuser("p-root", password=PASSWORD)
    assert sign_in(client, ADMIN_DOOR, PASSWORD, username=admin.username).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert stored_expiry(client) - timezone.now() <= timedelta(minutes=30)
    session = client.session
    session[SIGNED_IN_AT] = int(time.time()) - 11 * 3600
    session.save()
    assert client.get("/admin/").status_code == 302


def test_applicants_sessions_keep_the_default(client):
    phone = "13955550000"
    client.post("/apply/login/", {"phone": phone})
    text = SmsMessage.objects.filter(phone=phone).latest("created_at").text
    code = re.search(r"\d{6}", text).group()
    assert client.post("/apply/verify/", {"phone": phone, "code": code}).status_code == 302
    assert SIGNED_IN_AT not in client.session
    left = stored_expiry(client) - timezone.now()
    assert left > timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    assert client.get("/my/").status_code == 200
    assert stored_expiry(client) - timezone.now() > timedelta(days=1)
