"""Sign-in locks an account after repeated failures, and says so in Chinese."""

import pytest
from django.urls import reverse

from backoffice.services import MAX_FAILURES
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db


def sign_in(client, username: str, password: str):
    return client.post(reverse("staff-login"), {"username": username, "password": password})


def test_correct_password_signs_in(client, cast):
    response = sign_in(client, "p-district", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("staff-home")


def test_lockout_after_repeated_failures(client, cast):
    for _ in range(MAX_FAILURES):
        response = sign_in(client, "p-district", "wrong")
        assert "用户名或密码不正确" in response.content.decode()
    locked = sign_in(client, "p-district", PASSWORD)
    assert locked.status_code == 200
    assert "账户已暂时锁定" in locked.content.decode()
    # Another account is not affected.
    assert sign_in(client, "p-city", PASSWORD).status_code == 302


def test_a_success_resets_the_count(client, cast):
    for _ in range(MAX_FAILURES - 1):
        sign_in(client, "p-street", "wrong")
    assert sign_in(client, "p-street", PASSWORD).status_code == 302
    client.logout()
    for _ in range(MAX_FAILURES - 1):
        sign_in(client, "p-street", "wrong")
    assert sign_in(client, "p-street", PASSWORD).status_code == 302
