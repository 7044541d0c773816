"""统计分析 summaries the worker rebuilds (insights.summaries): 审核时效 per (month, county, step),
租金收缴 per (bill month, estate), 欠费 and 空置时长 per estate, and when each was last rebuilt."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0004_search_words_and_natural_order"),
        ("insights", "0002_warnings"),
    ]

    operations = [
        migrations.CreateModel(
            name="RentArrears",
            fields=[
                (
                    "estate",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="geo.estate",
                    ),
                ),
                ("households", models.PositiveIntegerField(verbose_name="欠费户数")),
                (
                    "amount",
                    models.DecimalField(decimal_places=2, max_digits=14, verbose_name="欠缴金额"),
                ),
            ],
            options={
                "verbose_name": "欠费汇总",
                "verbose_name_plural": "欠费汇总",
            },
        ),
        migrations.CreateModel(
            name="SummaryRefresh",
            fields=[
                (
                    "name",
                    models.CharField(
                        max_length=40, primary_key=True, serialize=False, verbose_name="汇总表"
                    ),
                ),
                ("refreshed_at", models.DateTimeField(verbose_name="数据截至")),
                ("seconds", models.FloatField(default=0, verbose_name="用时（秒）")),
                ("rows", models.PositiveIntegerField(default=0, verbose_name="行数")),
            ],
            options={
                "verbose_name": "统计汇总刷新",
                "verbose_name_plural": "统计汇总刷新",
            },
        ),
        migrations.CreateModel(
            name="VacancyEstate",
            fields=[
                (
                    "estate",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="geo.estate",
                    ),
                ),
                ("vacant", models.PositiveIntegerField(verbose_name="空置套数")),
                (
                    "since_total",
                    models.DecimalField(
                        decimal_places=6, max_digits=28, verbose_name="空置起点合计（秒）"
                    ),
                ),
                ("long", models.PositiveIntegerField(verbose_name="空置超半年")),
            ],
            options={
                "verbose_name": "空置时长汇总",
                "verbose_name_plural": "空置时长汇总",
            },
        ),
        migrations.CreateModel(
            name="RentMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(verbose_name="账期（月）")),
                ("bills", models.PositiveIntegerField(verbose_name="账单数")),
                (
                    "billed",
                    models.DecimalField(decimal_places=2, max_digits=14, verbose_name="应缴"),
                ),
                ("paid", models.DecimalField(decimal_places=2, max_digits=14, verbose_name="已缴")),
                (
                    "estate",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="geo.estate",
                    ),
                ),
            ],
            options={
                "verbose_name": "租金收缴汇总",
                "verbose_name_plural": "租金收缴汇总",
                "constraints": [
                    models.UniqueConstraint(fields=("month", "estate"), name="rent_month_unique")
                ],
            },
        ),
        migrations.CreateModel(
            name="ReviewMonth",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(verbose_name="月份")),
                ("step", models.CharField(max_length=15, verbose_name="环节")),
                ("decided", models.PositiveIntegerField(verbose_name="办结")),
                ("with_deadline", models.PositiveIntegerField(verbose_name="有时限")),
                ("late", models.PositiveIntegerField(verbose_name="超过时限")),
                ("rejected", models.PositiveIntegerField(verbose_name="不予通过")),
                ("timed", models.PositiveIntegerField(verbose_name="可计用时")),
                ("spent", models.DurationField(verbose_name="用时合计")),
                (
                    "county",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="geo.region",
                    ),
                ),
            ],
            options={
                "verbose_name": "审核时效汇总",
                "verbose_name_plural": "审核时效汇总",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("county", "month", "step"),
                        name="review_month_unique",
                        nulls_distinct=False,
                    )
                ],
            },
        ),
    ]
