"""Sign-in locks a username tried from one address after repeated failures, in Chinese."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username: str, password: str):
    return client.post(reverse("staff-login"), {"username": username, "password": password})


def test_correct_password_signs_in(client, cast):
    response = sign_in(client, "p-district", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("staff-home")


def test_lockout_after_repeated_failures(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = sign_in(client, "p-district", "wrong")
        assert "用户名或密码不正确" in response.content.decode()
    # The failure that reaches the limit already gets the lockout page.
    assert "账户已暂时锁定" in sign_in(client, "p-district", "wrong").content.decode()
    locked = sign_in(client, "p-district", PASSWORD)
    assert locked.status_code == 429
    assert "账户已暂时锁定，请 15 分钟后再试" in locked.content.decode()
    # Another account is not affected.
    assert sign_in(client, "p-city", PASSWORD).status_code == 302


def test_a_success_resets_the_count(client, cast):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "p-street", "wrong")
    assert sign_in(client, "p-street", PASSWORD).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "p-street", "wrong")
    assert sign_in(client, "p-street", PASSWORD).status_code == 302
