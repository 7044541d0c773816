"""0005_repairs: repair categories (seeded with common ones, edited as data), repairs, photos."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

CATEGORIES = [
    # code, name, respond within (hours), complete within (hours)
    ("urgent", "水电急修", 2, 24),
    ("general", "一般维修", 48, 168),
    ("leak", "渗漏与墙面", 24, 360),
    ("doors", "门窗与五金", 48, 168),
    ("appliance", "厨卫设施", 24, 120),
    ("common", "公共部位", 48, 240),
]


def seed(apps, schema_editor):
    RepairCategory = apps.get_model("tenancy", "RepairCategory")
    for order, (code, name, respond, complete) in enumerate(CATEGORIES):
        RepairCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "respond_hours": respond,
                "complete_hours": complete,
                "order": order,
            },
        )


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0004_reviews_renewals"),
        ("archive", "0005_document"),
        ("geo", "0004_search_words_and_natural_order"),
        ("housing", "0008_inbox_messages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="RepairCategory",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.SlugField(max_length=30, unique=True, verbose_name="代码")),
                ("name", models.CharField(max_length=40, verbose_name="名称")),
                ("respond_hours", models.PositiveIntegerField(verbose_name="响应时限（小时）")),
                ("complete_hours", models.PositiveIntegerField(verbose_name="完成时限（小时）")),
                ("order", models.PositiveSmallIntegerField(default=0, verbose_name="排序")),
                ("active", models.BooleanField(default=True, verbose_name="可选")),
            ],
            options={
                "verbose_name": "维修类别",
                "verbose_name_plural": "维修类别",
                "ordering": ["order", "code"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("respond_hours__gte", 1),
                            ("complete_hours__gte", models.F("respond_hours")),
                        ),
                        name="repair_category_deadlines_sane",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Repair",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.CharField(max_length=20, unique=True, verbose_name="工单编号")),
                (
                    "tenant_confirms",
                    models.BooleanField(default=False, verbose_name="需承租人确认"),
                ),
                ("description", models.TextField(verbose_name="问题描述")),
                (
                    "source",
                    models.CharField(
                        choices=[("tenant", "承租人报修"), ("staff", "工作人员登记")],
                        max_length=10,
                        verbose_name="来源",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("reported", "待派单"),
                            ("assigned", "已派单"),
                            ("scheduled", "已预约上门"),
                            ("closed", "已完工"),
                            ("confirmed", "已确认完成"),
                        ],
                        default="reported",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                (
                    "assignee_name",
                    models.CharField(blank=True, max_length=60, verbose_name="维修人员/班组"),
                ),
                ("respond_by", models.DateTimeField(verbose_name="响应时限")),
                ("complete_by", models.DateTimeField(verbose_name="完成时限")),
                ("reported_at", models.DateTimeField(verbose_name="报修时间")),
                (
                    "assigned_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="派单时间"),
                ),
                (
                    "scheduled_for",
                    models.DateTimeField(blank=True, null=True, verbose_name="预约上门时间"),
                ),
                (
                    "first_visit_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="首次预约上门时间"),
                ),
                ("closed_at", models.DateTimeField(blank=True, null=True, verbose_name="完工时间")),
                (
                    "confirmed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="确认时间"),
                ),
                ("close_note", models.TextField(blank=True, verbose_name="完工说明")),
                (
                    "reopen_count",
                    models.PositiveSmallIntegerField(default=0, verbose_name="返修次数"),
                ),
                ("reopen_reason", models.TextField(blank=True, verbose_name="最近返修原因")),
                (
                    "assignee",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="维修负责人（账号）",
                    ),
                ),
                (
                    "contract",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="repairs",
                        to="tenancy.contract",
                        verbose_name="租赁合同",
                    ),
                ),
                (
                    "estate",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="geo.estate",
                        verbose_name="项目",
                    ),
                ),
                (
                    "household",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="repairs",
                        to="housing.household",
                        verbose_name="承租家庭",
                    ),
                ),
                (
                    "operator",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="geo.operator",
                        verbose_name="运营单位",
                    ),
                ),
                (
                    "reported_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="登记人",
                    ),
                ),
                (
                    "unit",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="repairs",
                        to="geo.unit",
                        verbose_name="房屋",
                    ),
                ),
                (
                    "category",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="tenancy.repaircategory",
                        verbose_name="类别",
                    ),
                ),
            ],
            options={
                "verbose_name": "维修工单",
                "verbose_name_plural": "维修工单",
                "ordering": ["-reported_at"],
            },
        ),
        migrations.CreateModel(
            name="RepairPhoto",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "stage",
                    models.CharField(
                        choices=[("report", "报修照片"), ("close", "完工照片")],
                        max_length=10,
                        verbose_name="环节",
                    ),
                ),
                ("width", models.PositiveIntegerField(verbose_name="宽")),
                ("height", models.PositiveIntegerField(verbose_name="高")),
                ("added_at", models.DateTimeField(auto_now_add=True, verbose_name="上传时间")),
                (
                    "document",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="archive.document",
                        verbose_name="文件",
                    ),
                ),
                (
                    "repair",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="photos",
                        to="tenancy.repair",
                        verbose_name="维修工单",
                    ),
                ),
            ],
            options={
                "verbose_name": "维修照片",
                "verbose_name_plural": "维修照片",
                "ordering": ["repair", "added_at", "pk"],
            },
        ),
        migrations.AddIndex(
            model_name="repair",
            index=models.Index(
                fields=["operator", "reported_at"], name="repair_operator_reported_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="repair",
            index=models.Index(fields=["estate", "status"], name="repair_estate_status_idx"),
        ),
        migrations.AddIndex(
            model_name="repair",
            index=models.Index(fields=["status", "complete_by"], name="repair_status_due_idx"),
        ),
        migrations.AddIndex(
            model_name="repair",
            index=models.Index(fields=["unit", "status"], name="repair_unit_status_idx"),
        ),
        migrations.AddIndex(
            model_name="repair",
            index=models.Index(fields=["household", "reported_at"], name="repair_household_idx"),
        ),
        migrations.AddIndex(
            model_name="repair",
            index=models.Index(fields=["operator", "closed_at"], name="repair_operator_closed_idx"),
        ),
        migrations.AddConstraint(
            model_name="repair",
            constraint=models.CheckConstraint(
                condition=models.Q(("complete_by__gte", models.F("respond_by"))),
                name="repair_deadlines_ordered",
            ),
        ),
        migrations.AddConstraint(
            model_name="repair",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["reported", "assigned", "scheduled"]),
                    ("closed_at__isnull", False),
                    _connector="OR",
                ),
                name="repair_closed_has_time",
            ),
        ),
        migrations.AddConstraint(
            model_name="repair",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "confirmed"), _negated=True),
                    ("confirmed_at__isnull", False),
                    ("tenant_confirms", False),
                    _connector="OR",
                ),
                name="repair_confirmed_has_time",
            ),
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
