"""The demo conduct catalogue (data/credit-conduct.json) a city edits, and the query log made
append-only like the archive (who asked about whom cannot be rewritten)."""

import json
from pathlib import Path

from django.db import migrations

CATALOGUE = Path(__file__).resolve().parents[2] / "data" / "credit-conduct.json"

APPEND_ONLY = """
CREATE TRIGGER credit_query_append_only BEFORE UPDATE OR DELETE ON credit_query
    FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();
CREATE TRIGGER credit_query_no_truncate BEFORE TRUNCATE ON credit_query
    FOR EACH STATEMENT EXECUTE FUNCTION anju_refuse_truncate();
"""
REVERSE = """
DROP TRIGGER IF EXISTS credit_query_append_only ON credit_query;
DROP TRIGGER IF EXISTS credit_query_no_truncate ON credit_query;
"""


def load(apps, schema_editor):
    Conduct = apps.get_model("credit", "Conduct")
    for row in json.loads(CATALOGUE.read_text(encoding="utf-8"))["conduct"]:
        Conduct.objects.update_or_create(code=row["code"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_catalogue"), ("archive", "0003_no_truncate")]

    operations = [
        migrations.RunPython(load, migrations.RunPython.noop),
        migrations.RunSQL(APPEND_ONLY, REVERSE),
    ]
