"""The database itself keeps the archive append-only: UPDATE and DELETE raise an error."""

from django.db import migrations

TABLES = ["archive_event", "archive_accessrecord"]

FUNCTION = """
CREATE OR REPLACE FUNCTION archive_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'archive records are append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def triggers(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();"
    )


class Migration(migrations.Migration):
    dependencies = [("archive", "0001_initial")]

    operations = [
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS archive_refuse_change();"),
        *[
            migrations.RunSQL(triggers(t), f"DROP TRIGGER IF EXISTS {t}_append_only ON {t};")
            for t in TABLES
        ],
    ]
