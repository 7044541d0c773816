"""0006_violations: violation kinds (seeded from data/violation-kinds.json), cases and their
records, grid workers' inspections, public complaints and monthly utility readings (issue 13)."""

import json
from decimal import Decimal
from pathlib import Path

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import archive.fields

KINDS = Path(settings.BASE_DIR) / "data" / "violation-kinds.json"


def seed_kinds(apps, schema_editor):
    """The catalogue a city starts from; later edits are made in the admin, not here."""
    ViolationKind = apps.get_model("tenancy", "ViolationKind")
    for row in json.loads(KINDS.read_text(encoding="utf-8")):
        code = row.pop("code")
        ViolationKind.objects.get_or_create(code=code, defaults=row)


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0005_repairs"),
        ("archive", "0005_document"),
        ("geo", "0004_search_words_and_natural_order"),
        ("housing", "0008_inbox_messages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ViolationKind",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField(max_length=30, unique=True, verbose_name="代码")),
                ("name", models.CharField(max_length=40, verbose_name="名称")),
                ("description", models.TextField(blank=True, verbose_name="认定标准")),
                (
                    "investigation_days",
                    models.PositiveSmallIntegerField(default=15, verbose_name="调查期限（天）"),
                ),
                (
                    "decision_days",
                    models.PositiveSmallIntegerField(default=10, verbose_name="处理决定期限（天）"),
                ),
                (
                    "rectification_days",
                    models.PositiveSmallIntegerField(default=30, verbose_name="整改期限（天）"),
                ),
                (
                    "credit_conduct",
                    models.CharField(
                        blank=True, max_length=40, verbose_name="可建议的失信行为代码"
                    ),
                ),
                ("rule", models.JSONField(blank=True, default=dict, verbose_name="判定参数")),
                ("order", models.PositiveSmallIntegerField(default=0, verbose_name="排序")),
                ("active", models.BooleanField(default=True, verbose_name="启用")),
            ],
            options={
                "verbose_name": "违规类型",
                "verbose_name_plural": "违规类型",
                "ordering": ["order", "code"],
            },
        ),
        migrations.CreateModel(
            name="ViolationCase",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("recheck", "动态核查"),
                            ("inspection", "入户巡查"),
                            ("complaint", "群众举报"),
                            ("utility", "水电数据"),
                            ("arrears", "欠租预警"),
                            ("manual", "工作人员登记"),
                        ],
                        max_length=12,
                        verbose_name="线索来源",
                    ),
                ),
                (
                    "source_ref",
                    models.CharField(blank=True, max_length=64, verbose_name="来源编号"),
                ),
                ("summary", models.CharField(max_length=300, verbose_name="线索摘要")),
                ("evidence", models.JSONField(blank=True, default=dict, verbose_name="线索证据")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("investigating", "调查中"),
                            ("deciding", "待处理决定"),
                            ("rectifying", "限期整改中"),
                            ("closed", "已结案"),
                        ],
                        default="investigating",
                        max_length=14,
                        verbose_name="状态",
                    ),
                ),
                ("step_due", models.DateField(verbose_name="本环节期限")),
                (
                    "decision",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("warning", "警告"),
                            ("rectification", "限期整改"),
                            ("cancel", "取消保障资格"),
                            ("recover", "收回房屋"),
                        ],
                        max_length=14,
                        verbose_name="处理决定",
                    ),
                ),
                ("decision_reason", models.TextField(blank=True, verbose_name="决定理由")),
                ("rectify_by", models.DateField(blank=True, null=True, verbose_name="整改期限")),
                (
                    "proposed_credit",
                    models.JSONField(blank=True, default=dict, verbose_name="建议信用记录"),
                ),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("unfounded", "查无违规"),
                            ("warned", "已警告"),
                            ("rectified", "已整改"),
                            ("exit", "转入退出程序"),
                        ],
                        max_length=10,
                        verbose_name="结案结果",
                    ),
                ),
                ("opened_at", models.DateTimeField(auto_now_add=True, verbose_name="立案时间")),
                (
                    "decided_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="决定时间"),
                ),
                ("closed_at", models.DateTimeField(blank=True, null=True, verbose_name="结案时间")),
                (
                    "contract",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="violation_cases",
                        to="tenancy.contract",
                        verbose_name="合同",
                    ),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "household",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="violation_cases",
                        to="housing.household",
                        verbose_name="承租家庭",
                    ),
                ),
                (
                    "opened_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="violation_cases",
                        to="geo.unit",
                        verbose_name="房屋",
                    ),
                ),
                (
                    "kind",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="cases",
                        to="tenancy.violationkind",
                        verbose_name="违规类型",
                    ),
                ),
            ],
            options={
                "verbose_name": "违规案件",
                "verbose_name_plural": "违规案件",
                "ordering": ["-opened_at"],
                "indexes": [models.Index(fields=["status", "step_due"], name="violation_open_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "closed"), _negated=True),
                        fields=("unit", "kind", "source_ref"),
                        name="one_open_violation_per_lead",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("status", "rectifying"), _negated=True),
                            ("rectify_by__isnull", False),
                            _connector="OR",
                        ),
                        name="violation_rectifying_has_deadline",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="CaseRecord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("visit", "实地核查"),
                            ("interview", "约谈笔录"),
                            ("note", "情况说明"),
                            ("follow_up", "整改复查"),
                        ],
                        max_length=10,
                        verbose_name="记录类型",
                    ),
                ),
                ("text", models.TextField(verbose_name="内容")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="记录时间")),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "photos",
                    models.ManyToManyField(
                        blank=True, related_name="+", to="archive.document", verbose_name="照片"
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="records",
                        to="tenancy.violationcase",
                    ),
                ),
            ],
            options={
                "verbose_name": "调查记录",
                "verbose_name_plural": "调查记录",
                "ordering": ["created_at", "pk"],
            },
        ),
        migrations.CreateModel(
            name="Inspection",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("visited_on", models.DateField(verbose_name="巡查日期")),
                ("occupant_present", models.BooleanField(verbose_name="有人居住")),
                (
                    "answered_by",
                    models.CharField(
                        choices=[
                            ("tenant", "承租人本人"),
                            ("family", "共同居住家庭成员"),
                            ("other", "其他人员"),
                            ("nobody", "无人应门"),
                        ],
                        max_length=8,
                        verbose_name="应门人",
                    ),
                ),
                ("notes", models.TextField(blank=True, verbose_name="巡查情况")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "contract",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.contract",
                    ),
                ),
                (
                    "inspector",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "photos",
                    models.ManyToManyField(
                        blank=True, related_name="+", to="archive.document", verbose_name="照片"
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="inspections",
                        to="geo.unit",
                        verbose_name="房屋",
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.violationcase",
                    ),
                ),
                (
                    "suspected",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.violationkind",
                        verbose_name="疑似违规",
                    ),
                ),
            ],
            options={
                "verbose_name": "入户巡查",
                "verbose_name_plural": "入户巡查",
                "ordering": ["-visited_on", "-pk"],
                "indexes": [
                    models.Index(fields=["unit", "visited_on"], name="inspection_unit_idx")
                ],
            },
        ),
        migrations.CreateModel(
            name="Complaint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reference",
                    models.CharField(max_length=16, unique=True, verbose_name="受理编号"),
                ),
                (
                    "place",
                    models.CharField(
                        blank=True, max_length=60, verbose_name="楼栋房号（举报人填写）"
                    ),
                ),
                ("text", models.TextField(verbose_name="举报内容")),
                ("anonymous", models.BooleanField(default=True, verbose_name="匿名")),
                (
                    "phone",
                    archive.fields.EncryptedCharField(
                        blank=True, max_length=11, verbose_name="联系电话"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[("new", "待处理"), ("case", "已立案"), ("dismissed", "不予立案")],
                        default="new",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("dismiss_reason", models.TextField(blank=True, verbose_name="不予立案理由")),
                (
                    "handled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="处理时间"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="举报时间")),
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
                    "estate",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="geo.estate",
                        verbose_name="项目（小区）",
                    ),
                ),
                (
                    "handled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="complaints",
                        to="geo.unit",
                        verbose_name="房屋",
                    ),
                ),
                (
                    "case",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.violationcase",
                    ),
                ),
                (
                    "kind",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.violationkind",
                        verbose_name="举报事项",
                    ),
                ),
            ],
            options={
                "verbose_name": "群众举报",
                "verbose_name_plural": "群众举报",
                "ordering": ["-created_at"],
                "indexes": [models.Index(fields=["county", "status"], name="complaint_queue_idx")],
            },
        ),
        migrations.CreateModel(
            name="UtilityReading",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(verbose_name="月份")),
                (
                    "water_m3",
                    models.DecimalField(decimal_places=2, max_digits=9, verbose_name="用水（吨）"),
                ),
                (
                    "electricity_kwh",
                    models.DecimalField(decimal_places=2, max_digits=9, verbose_name="用电（度）"),
                ),
                ("imported_at", models.DateTimeField(auto_now_add=True)),
                (
                    "source",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="archive.document",
                        verbose_name="导入文件",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="utility_readings",
                        to="geo.unit",
                        verbose_name="房屋",
                    ),
                ),
            ],
            options={
                "verbose_name": "水电读数",
                "verbose_name_plural": "水电读数",
                "ordering": ["unit", "month"],
                "indexes": [models.Index(fields=["month"], name="reading_month_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("unit", "month"), name="one_reading_per_unit_month"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("month__day", 1)), name="reading_month_first_day"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            ("water_m3__gte", Decimal("0")), ("electricity_kwh__gte", Decimal("0"))
                        ),
                        name="reading_non_negative",
                    ),
                ],
            },
        ),
        migrations.RunPython(seed_kinds, migrations.RunPython.noop),
    ]
