"""An opaque public key per application, filled in for existing rows before it becomes unique;
drafts no longer hold a person's one open case."""

import secrets

from django.db import migrations, models
from django.db.models import Q

import housing.models


def fill_keys(apps, schema_editor):
    Application = apps.get_model("housing", "Application")
    for application in Application.objects.filter(public_key__isnull=True).only("pk"):
        application.public_key = secrets.token_hex(4).upper()
        application.save(update_fields=["public_key"])


class Migration(migrations.Migration):
    dependencies = [("housing", "0002_insured_years")]

    operations = [
        migrations.AddField(
            model_name="application",
            name="public_key",
            field=models.CharField(max_length=8, null=True, verbose_name="公示编号"),
        ),
        migrations.RunPython(fill_keys, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="application",
            name="public_key",
            field=models.CharField(
                default=housing.models.public_key,
                max_length=8,
                unique=True,
                verbose_name="公示编号",
            ),
        ),
        migrations.RemoveConstraint(model_name="application", name="one_open_application"),
        migrations.AddConstraint(
            model_name="application",
            constraint=models.UniqueConstraint(
                condition=~Q(stage__in=["draft", "rejected"]),
                fields=("id_number",),
                name="one_open_application",
            ),
        ),
    ]
