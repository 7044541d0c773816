from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("archive", "0007_event_seal")]

    operations = [
        migrations.AddIndex(
            model_name="event",
            index=models.Index(fields=["action", "id"], name="event_action_idx"),
        ),
    ]
