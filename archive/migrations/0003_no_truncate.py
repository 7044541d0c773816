"""TRUNCATE bypasses row triggers: refuse it on the append-only tables as well."""

from django.db import migrations

SQL = """
CREATE OR REPLACE FUNCTION anju_refuse_truncate() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'append-only: TRUNCATE on % refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER archive_event_no_truncate BEFORE TRUNCATE ON archive_event
    FOR EACH STATEMENT EXECUTE FUNCTION anju_refuse_truncate();
CREATE TRIGGER archive_accessrecord_no_truncate BEFORE TRUNCATE ON archive_accessrecord
    FOR EACH STATEMENT EXECUTE FUNCTION anju_refuse_truncate();
"""
REVERSE = """
DROP TRIGGER IF EXISTS archive_event_no_truncate ON archive_event;
DROP TRIGGER IF EXISTS archive_accessrecord_no_truncate ON archive_accessrecord;
"""


class Migration(migrations.Migration):
    dependencies = [("archive", "0002_append_only")]

    operations = [migrations.RunSQL(SQL, REVERSE)]
