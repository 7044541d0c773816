"""Settings come from the environment and fail loudly: production never starts half-configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import database_from_url, env_bool, env_int, env_str

ROOT = Path(__file__).resolve().parents[2]
PROD = {
    "DJANGO_DEBUG": "false",
    "SECRET_KEY": "x" * 50,
    "ALLOWED_HOSTS": "anju.example",
    "DATABASE_URL": "postgis://u@127.0.0.1:5432/anju",
    "ANJU_DATA_PLATFORM_SECRET": "platform-secret",
}


def start_django(env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in PROD and not k.endswith("_FILE")}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'portal.settings'); django.setup(); "
            "from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "ANJU_DATA_PLATFORM_SECRET"]
)
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PROD.items() if k != missing}
    result = start_django(env)
    assert result.returncode != 0
    assert f"Set the environment variable {missing}" in result.stderr


def test_production_starts_with_everything_set():
    result = start_django(PROD)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_secret_can_come_from_a_file(tmp_path, monkeypatch):
    secret = tmp_path / "secret"
    secret.write_text("from-a-file\n")
    monkeypatch.delenv("ANJU_TEST_SECRET", raising=False)
    monkeypatch.setenv("ANJU_TEST_SECRET_FILE", str(secret))
    assert env_str("ANJU_TEST_SECRET") == "from-a-file"


def test_typed_helpers_reject_nonsense(monkeypatch):
    monkeypatch.setenv("ANJU_TEST_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured, match="not a boolean"):
        env_bool("ANJU_TEST_FLAG", False)
    monkeypatch.setenv("ANJU_TEST_NUMBER", "ten")
    with pytest.raises(ImproperlyConfigured, match="not an integer"):
        env_int("ANJU_TEST_NUMBER", 1)


def test_database_url_must_be_postgis():
    with pytest.raises(ImproperlyConfigured, match="postgis://"):
        database_from_url("sqlite:///tmp/db.sqlite3")
    db = database_from_url("postgis://anju:p%40ss@db.internal:6432/housing?sslmode=require")
    assert (db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]) == (
        "anju",
        "p@ss",
        "db.internal",
        "6432",
        "housing",
    )
    assert db["OPTIONS"] == {"sslmode": "require"}


def test_locale_and_time_zone(settings):
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_production_settings_pass_the_deployment_checklist():
    """`manage.py check --deploy` with production settings: no warning, no error."""
    # The test process's own switch for Playwright is no deployment's.
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in PROD and not k.endswith("_FILE") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        # A key Django accepts as strong (the module's "x" * 50 is deliberately weak).
        env={
            **clean,
            **PROD,
            "SECRET_KEY": "k3y-Ab9#kd83jdKDJ(*&^%$@!qwertyuiopASDFGHJzx-0192837465",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
