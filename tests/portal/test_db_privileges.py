"""Least privilege: the role the application connects as can read and write rows but cannot
defeat the append-only tables (TRUNCATE, session_replication_role, dropping a trigger); even
the owner cannot TRUNCATE them."""

import psycopg
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.db.utils import DatabaseError

pytestmark = pytest.mark.django_db(transaction=False)

APPEND_ONLY = ["archive_event", "archive_accessrecord", "disclosure_publication"]


@pytest.fixture
def app_connection():
    """A connection to the test database as the application's role (make test sets it)."""
    role = settings.ANJU_DB_APP_ROLE
    if not role:
        pytest.skip("ANJU_DB_APP_ROLE is not set: no separate application role to check")
    db = settings.DATABASES["default"]
    conn = psycopg.connect(
        host=db["HOST"], port=db["PORT"], dbname=db["NAME"], user=role, autocommit=True
    )
    yield conn
    conn.close()


def refused(conn, sql: str) -> str:
    with pytest.raises(psycopg.Error) as failure:
        conn.execute(sql)
    return str(failure.value)


def test_the_application_role_is_no_superuser_and_owns_nothing(app_connection):
    row = app_connection.execute(
        "SELECT rolsuper, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    ).fetchone()
    assert row == (False, False, False)
    owned = app_connection.execute(
        "SELECT count(*) FROM pg_tables WHERE tableowner = current_user"
    ).fetchone()
    assert owned == (0,)


def test_the_application_role_works_with_rows(app_connection):
    assert app_connection.execute("SELECT count(*) > 0 FROM geo_unit").fetchone() == (True,)
    with app_connection.transaction():
        app_connection.execute(
            "INSERT INTO archive_event (at, action, summary, reason) "
            "VALUES (now(), 'test.privileges', '权限检查', '')"
        )
        raise psycopg.Rollback()


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_the_application_role_cannot_defeat_append_only_tables(app_connection, table):
    assert "permission denied" in refused(app_connection, f"TRUNCATE {table}")
    if table != "archive_accessrecord":  # the demo has rows here: their triggers answer
        assert app_connection.execute(f"SELECT count(*) > 0 FROM {table}").fetchone() == (True,)
        assert "refused" in refused(app_connection, f"UPDATE {table} SET id = id")
        assert "refused" in refused(app_connection, f"DELETE FROM {table}")
    assert "permission denied" in refused(app_connection, "SET session_replication_role = replica")
    assert "owner" in refused(app_connection, f"ALTER TABLE {table} DISABLE TRIGGER ALL")


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_not_even_the_owner_can_truncate_append_only_tables(table):
    with pytest.raises(DatabaseError, match="TRUNCATE"), transaction.atomic():
        connection.cursor().execute(f"TRUNCATE {table} CASCADE")
