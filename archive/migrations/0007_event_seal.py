"""The archive's hash chain (archive.chain): seals, append-only like the events they seal."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("archive", "0006_file_access"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventSeal",
            fields=[
                (
                    "position",
                    models.PositiveBigIntegerField(
                        primary_key=True, serialize=False, verbose_name="序号"
                    ),
                ),
                ("event_id", models.BigIntegerField(unique=True, verbose_name="事件")),
                ("previous", models.CharField(max_length=64, verbose_name="前一摘要")),
                ("digest", models.CharField(max_length=64, verbose_name="摘要")),
                ("sealed_at", models.DateTimeField(verbose_name="封存时间")),
            ],
            options={
                "verbose_name": "档案存证",
                "verbose_name_plural": "档案存证",
                "ordering": ["position"],
            },
        ),
        # Append-only like the event log (functions from 0002 and 0003).
        migrations.RunSQL(
            "CREATE TRIGGER archive_eventseal_append_only BEFORE UPDATE OR DELETE "
            "ON archive_eventseal FOR EACH ROW EXECUTE FUNCTION archive_refuse_change();"
            "CREATE TRIGGER archive_eventseal_no_truncate BEFORE TRUNCATE ON archive_eventseal "
            "FOR EACH STATEMENT EXECUTE FUNCTION anju_refuse_truncate();",
            "DROP TRIGGER IF EXISTS archive_eventseal_append_only ON archive_eventseal;"
            "DROP TRIGGER IF EXISTS archive_eventseal_no_truncate ON archive_eventseal;",
        ),
    ]
