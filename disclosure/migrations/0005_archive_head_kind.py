"""Publications of a new kind: the archive chain's daily head (disclosure.archive_head)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("disclosure", "0004_no_truncate"),
    ]

    operations = [
        migrations.AlterField(
            model_name="outbox",
            name="kind",
            field=models.CharField(
                choices=[
                    ("review", "审核公示"),
                    ("waitlist", "轮候名单"),
                    ("round", "配租摇号公告"),
                    ("allocation", "配租结果"),
                    ("dishonesty", "失信名单"),
                    ("vacancy", "房源发布"),
                    ("notice", "通知公告"),
                    ("archive", "档案存证"),
                ],
                max_length=12,
            ),
        ),
        migrations.AlterField(
            model_name="publication",
            name="kind",
            field=models.CharField(
                choices=[
                    ("review", "审核公示"),
                    ("waitlist", "轮候名单"),
                    ("round", "配租摇号公告"),
                    ("allocation", "配租结果"),
                    ("dishonesty", "失信名单"),
                    ("vacancy", "房源发布"),
                    ("notice", "通知公告"),
                    ("archive", "档案存证"),
                ],
                max_length=12,
                verbose_name="类别",
            ),
        ),
        migrations.AlterField(
            model_name="series",
            name="kind",
            field=models.CharField(
                choices=[
                    ("review", "审核公示"),
                    ("waitlist", "轮候名单"),
                    ("round", "配租摇号公告"),
                    ("allocation", "配租结果"),
                    ("dishonesty", "失信名单"),
                    ("vacancy", "房源发布"),
                    ("notice", "通知公告"),
                    ("archive", "档案存证"),
                ],
                max_length=12,
                verbose_name="类别",
            ),
        ),
    ]
