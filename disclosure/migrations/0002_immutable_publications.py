"""Published versions are immutable: the database refuses UPDATE and DELETE on publications."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION disclosure_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'published versions are immutable: % on % refused; publish a correction',
        TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
TRIGGER = (
    "CREATE TRIGGER disclosure_publication_immutable BEFORE UPDATE OR DELETE "
    "ON disclosure_publication FOR EACH ROW EXECUTE FUNCTION disclosure_refuse_change();"
)


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0001_initial")]

    operations = [
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS disclosure_refuse_change();"),
        migrations.RunSQL(
            TRIGGER,
            "DROP TRIGGER IF EXISTS disclosure_publication_immutable ON disclosure_publication;",
        ),
    ]
