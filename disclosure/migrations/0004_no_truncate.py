"""TRUNCATE bypasses row triggers: published versions refuse it too."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("disclosure", "0003_publication_data"), ("archive", "0003_no_truncate")]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER disclosure_publication_no_truncate BEFORE TRUNCATE "
            "ON disclosure_publication FOR EACH STATEMENT EXECUTE FUNCTION anju_refuse_truncate();",
            "DROP TRIGGER IF EXISTS disclosure_publication_no_truncate ON disclosure_publication;",
        )
    ]
