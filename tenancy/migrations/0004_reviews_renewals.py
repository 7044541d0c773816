"""0004_reviews_renewals: its operations are written when its models land (issue 13)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0003_recheck")]

    operations = []
