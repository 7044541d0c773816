"""A development superuser exists only with DEBUG on, with a random password that is printed."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.test import RequestFactory

pytestmark = pytest.mark.django_db


def test_refused_without_debug(settings, tmp_path):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("ensure_dev_superuser", password_file=tmp_path / "pw", stdout=StringIO())
    assert not get_user_model().objects.filter(is_superuser=True).exists()


def test_created_with_debug_and_credentials_printed(settings, tmp_path):
    settings.DEBUG = True
    out = StringIO()
    call_command("ensure_dev_superuser", password_file=tmp_path / "pw", stdout=out)
    password = (tmp_path / "pw").read_text().strip()
    assert len(password) >= 12
    assert password in out.getvalue()
    # Every sign-in passes the login protection, which needs the request it came with.
    request = RequestFactory().post("/admin/login/")
    user = authenticate(request, username="admin", password=password)
    assert user is not None and user.is_superuser
    # Run again: same password, still one user.
    call_command("ensure_dev_superuser", password_file=tmp_path / "pw", stdout=StringIO())
    assert get_user_model().objects.filter(username="admin").count() == 1
