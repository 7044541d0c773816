"""0003_recheck: 动态核查 runs and hits (issue 13)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import archive.fields


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0004_search_words_and_natural_order"),
        ("housing", "0008_inbox_messages"),
        ("tenancy", "0002_rent_payments_and_warnings"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RecheckRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("running", "进行中"),
                            ("interrupted", "已中断"),
                            ("finished", "已完成"),
                        ],
                        default="running",
                        max_length=12,
                        verbose_name="状态",
                    ),
                ),
                ("started_at", models.DateTimeField(verbose_name="开始时间")),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="结束时间"),
                ),
                ("source", models.CharField(max_length=200, verbose_name="数据来源")),
                ("total", models.PositiveIntegerField(default=0, verbose_name="应核查户数")),
                ("done", models.PositiveIntegerField(default=0, verbose_name="已核查户数")),
                (
                    "last_household",
                    models.BigIntegerField(default=0, verbose_name="已核查到（家庭编号）"),
                ),
                ("hits_new", models.PositiveIntegerField(default=0, verbose_name="新增疑点")),
                (
                    "hits_refreshed",
                    models.PositiveIntegerField(default=0, verbose_name="仍存在的疑点"),
                ),
                ("hits_cleared", models.PositiveIntegerField(default=0, verbose_name="已恢复符合")),
                ("error", models.TextField(blank=True, verbose_name="中断原因")),
                (
                    "resumed_from",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="resumed_by",
                        to="tenancy.recheckrun",
                        verbose_name="接续的核查",
                    ),
                ),
                (
                    "started_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="发起人",
                    ),
                ),
            ],
            options={
                "verbose_name": "动态核查批次",
                "verbose_name_plural": "动态核查批次",
                "ordering": ["-started_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="RecheckHit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("criterion", models.CharField(max_length=20, verbose_name="条件")),
                ("department", models.CharField(max_length=20, verbose_name="部门")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "待核实"),
                            ("dismissed", "核实无误（误报）"),
                            ("exit_started", "已启动退出"),
                            ("case_opened", "已违规立案"),
                            ("cleared", "复查已符合"),
                        ],
                        default="open",
                        max_length=12,
                        verbose_name="状态",
                    ),
                ),
                ("finding", models.JSONField(verbose_name="比对结果")),
                ("evidence", archive.fields.EncryptedJSONField(verbose_name="部门返回数据")),
                ("payload_hash", models.CharField(max_length=64, verbose_name="数据哈希")),
                ("first_seen_at", models.DateTimeField(verbose_name="发现时间")),
                ("last_seen_at", models.DateTimeField(verbose_name="最近核查时间")),
                ("seen_count", models.PositiveIntegerField(default=1, verbose_name="核查次数")),
                (
                    "resolved_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="处理时间"),
                ),
                ("reason", models.TextField(blank=True, verbose_name="处理意见")),
                ("follow_up", models.CharField(blank=True, max_length=60, verbose_name="后续案件")),
                (
                    "contract",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="recheck_hits",
                        to="tenancy.contract",
                        verbose_name="合同",
                    ),
                ),
                (
                    "county",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="geo.region",
                        verbose_name="区县",
                    ),
                ),
                (
                    "household",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="recheck_hits",
                        to="housing.household",
                        verbose_name="承租家庭",
                    ),
                ),
                (
                    "resolved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="处理人",
                    ),
                ),
                (
                    "first_run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.recheckrun",
                        verbose_name="发现于",
                    ),
                ),
                (
                    "last_run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="hits",
                        to="tenancy.recheckrun",
                        verbose_name="最近核查",
                    ),
                ),
            ],
            options={
                "verbose_name": "动态核查疑点",
                "verbose_name_plural": "动态核查疑点",
                "ordering": ["-first_seen_at", "-pk"],
            },
        ),
        migrations.AddConstraint(
            model_name="recheckrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "running")),
                fields=("status",),
                name="one_running_recheck",
            ),
        ),
        migrations.AddIndex(
            model_name="recheckhit",
            index=models.Index(
                fields=["status", "county", "criterion"], name="recheck_hit_queue_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="recheckhit",
            index=models.Index(fields=["household", "criterion"], name="recheck_hit_household_idx"),
        ),
        migrations.AddConstraint(
            model_name="recheckhit",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "open")),
                fields=("household", "criterion"),
                name="one_open_recheck_hit",
            ),
        ),
    ]
