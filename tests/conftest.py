"""Shared fixtures: a test database holding the demo city, loaded once per run."""

import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.request import urlopen

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import translation
from hypothesis import settings as hypothesis_settings

# Property tests check behaviour, not speed: no per-example deadline on a busy CI machine.
hypothesis_settings.register_profile("anju", deadline=None, print_blob=True)
hypothesis_settings.load_profile("anju")

# Playwright's sync API runs an event loop in the test thread; the ORM calls beside it are safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
DEMO_SEED = 1


@pytest.fixture(autouse=True, scope="session")
def _test_settings(tmp_path_factory):
    """A fast password hash (tests create many staff users) and uploads in a temporary folder."""
    with override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")),
    ):
        yield


@pytest.fixture(autouse=True)
def _chinese_after_each_test():
    """A request in English leaves English active on the thread (LocaleMiddleware does not
    undo it): each test starts in the site's language, whatever ran before it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(scope="session")
def django_db_setup(request, django_test_environment, django_db_blocker):
    """A test database holding the demo city, shared by every test.

    Always created, even when only tests that talk to the database from other processes
    (browsers, workers) are selected: they must never reach the development database.
    """
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock():
        config = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        assert connection.settings_dict["NAME"].startswith("test_")
        call_command("load_demo", seed=DEMO_SEED, verbosity=0)
    yield
    with django_db_blocker.unblock():
        try:
            teardown_databases(config, verbosity=0)
        except Exception as exc:  # a lingering server connection must not fail the run
            request.node.warn(pytest.PytestWarning(f"test database not dropped: {exc!r}"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(url: str, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urlopen(url, timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.2)


@pytest.fixture(scope="session")
def data_platform() -> str:
    """The demo data-sharing platform, a separate HTTP service, as `make run` starts it."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange.demo_platform", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait_for(url + "/health", proc, "the demo data platform")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def platform_settings(settings, data_platform):
    settings.ANJU_DATA_PLATFORM_URL = data_platform
    settings.ANJU_DATA_SOURCE = "http"
    return settings


def _serve(
    data_platform: str, access_log: Path | None = None, **extra_env: str
) -> tuple[str, subprocess.Popen]:
    """gunicorn on the test database; one secret key for all workers (sessions must hold)."""
    db = settings.DATABASES["default"]
    # The served app connects as the application's role where there is one, as in production.
    user = settings.ANJU_DB_APP_ROLE or db["USER"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgis://{user}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DJANGO_DEBUG": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ANJU_DATA_PLATFORM_URL": data_platform,
        # The switcher offers the usual base maps, but none is shown first: no tile request
        # leaves the machine unless a test asks for one (and fulfils it locally).
        "ANJU_BASEMAP": "none",
        # Files the tests store (contracts, imports) are where the served app reads them.
        "MEDIA_ROOT": settings.MEDIA_ROOT,
        **extra_env,
    }
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "portal.wsgi",
            "-c",
            "portal/gunicorn.conf.py",  # as `make run` serves
            "--access-logfile",
            str(access_log or os.devnull),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    _wait_for(base + "/static/portal/site.css", proc, "gunicorn for the browser tests")
    return base, proc


def _stop(proc: subprocess.Popen, django_db_blocker) -> None:
    proc.terminate()
    proc.wait(timeout=10)
    role = settings.ANJU_DB_APP_ROLE
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        # Workers' sessions can outlive them by a moment; the test database must drop cleanly.
        # Only the served app's sessions (its own role): the tests' other connections live on.
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND (%s = '' OR usename = %s)",
            [role, role],
        )


@pytest.fixture(scope="session")
def site_access_log(tmp_path_factory) -> Path:
    """Where the served portal (site_url) writes its access log."""
    return tmp_path_factory.mktemp("logs") / "access.log"


@pytest.fixture(scope="session")
def site_url(django_db_setup, django_db_blocker, data_platform, site_access_log) -> str:
    """The portal served by gunicorn (a real HTTP server) on the test database."""
    base, proc = _serve(data_platform, access_log=site_access_log)
    yield base
    _stop(proc, django_db_blocker)


@pytest.fixture(scope="session")
def tiles_site_url(django_db_setup, django_db_blocker, data_platform) -> str:
    """The same portal told that a handful of estates is already "too many for markers"."""
    base, proc = _serve(data_platform, ANJU_MAP_MARKER_LIMIT="5")
    yield base
    _stop(proc, django_db_blocker)


from tests.personas import cast  # noqa: E402,F401  (one staff member per role, for every app)
