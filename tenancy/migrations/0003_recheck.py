"""0003_recheck: its operations are written when its models land (issue 13)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0002_rent_payments_and_warnings")]

    operations = []
