"""Least privilege: the application connects as a role that owns nothing and is no superuser,
so it can read and write rows but cannot TRUNCATE, drop triggers or switch them off with
session_replication_role. Migrations run as the owner; after each migrate the owner grants the
application role what it needs (ANJU_DB_APP_ROLE), on every table present and future."""

from django.conf import settings
from django.db import connections


def grant_app_role(using: str = "default", **kwargs) -> None:
    """post_migrate: row privileges on every table and sequence of the schema to the app role."""
    role = settings.ANJU_DB_APP_ROLE
    if not role:
        return
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            return
        name = connections[using].ops.quote_name(role)
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}"
        )
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {name}")
        cursor.execute(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {name}"
        )
        cursor.execute(
            "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
            f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {name}"
        )
