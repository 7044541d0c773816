"""0004_reviews_renewals: 年审 and 续租 (issue 13), and a renewal lease beside the one it continues
(Contract.renews; live leases of a unit or household never overlap in time)."""

import django.contrib.postgres.constraints
import django.contrib.postgres.fields.ranges
import django.contrib.postgres.operations
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import archive.fields
import tenancy.models.contracts
import tenancy.models.reviews


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("geo", "0004_search_words_and_natural_order"),
        ("housing", "0008_inbox_messages"),
        ("tenancy", "0003_recheck"),
    ]

    operations = [
        django.contrib.postgres.operations.BtreeGistExtension(),
        migrations.CreateModel(
            name="AnnualReview",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("year", models.PositiveSmallIntegerField(verbose_name="年度")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "待填报"),
                            ("submitted", "待审核"),
                            ("approved", "审核通过"),
                            ("rejected", "审核不通过"),
                            ("missed", "逾期未填报"),
                        ],
                        default="open",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("opened_on", models.DateField(verbose_name="开启日期")),
                ("due_date", models.DateField(verbose_name="填报截止")),
                (
                    "reminded_days",
                    models.JSONField(blank=True, default=list, verbose_name="已提醒（截止前天数）"),
                ),
                (
                    "answers",
                    archive.fields.EncryptedJSONField(
                        blank=True, null=True, verbose_name="填报内容"
                    ),
                ),
                ("findings", models.JSONField(blank=True, default=list, verbose_name="比对结果")),
                ("passed", models.BooleanField(null=True, verbose_name="比对符合")),
                (
                    "submitted_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="提交时间"),
                ),
                (
                    "decided_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="审核时间"),
                ),
                ("reasons", models.TextField(blank=True, verbose_name="审核意见")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "verbose_name": "年审",
                "verbose_name_plural": "年审",
                "ordering": ["due_date", "pk"],
            },
        ),
        migrations.CreateModel(
            name="Renewal",
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
                            ("pending", "待审核"),
                            ("approved", "已同意续租"),
                            ("rejected", "不予续租"),
                            ("withdrawn", "已撤回"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("months", models.PositiveSmallIntegerField(verbose_name="续租期限（月）")),
                (
                    "answers",
                    archive.fields.EncryptedJSONField(
                        blank=True, null=True, verbose_name="申请内容"
                    ),
                ),
                ("findings", models.JSONField(blank=True, default=list, verbose_name="比对结果")),
                ("passed", models.BooleanField(default=False, verbose_name="比对符合")),
                (
                    "checked_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="比对时间"),
                ),
                ("requested_at", models.DateTimeField(auto_now_add=True, verbose_name="申请时间")),
                (
                    "decided_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="审核时间"),
                ),
                ("reasons", models.TextField(blank=True, verbose_name="审核意见")),
            ],
            options={
                "verbose_name": "续租申请",
                "verbose_name_plural": "续租申请",
                "ordering": ["-requested_at", "-pk"],
            },
        ),
        migrations.CreateModel(
            name="RenewalNotice",
            fields=[
                (
                    "contract",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="renewal_notice",
                        serialize=False,
                        to="tenancy.contract",
                    ),
                ),
                ("sent_at", models.DateTimeField(auto_now_add=True, verbose_name="提醒时间")),
            ],
            options={
                "verbose_name": "续租提醒",
                "verbose_name_plural": "续租提醒",
            },
        ),
        migrations.CreateModel(
            name="ReviewPolicy",
            fields=[
                (
                    "county",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        serialize=False,
                        to="geo.region",
                        verbose_name="区县",
                    ),
                ),
                (
                    "answer_days",
                    models.PositiveSmallIntegerField(
                        default=30,
                        help_text="从年审开启之日起算",
                        verbose_name="年审填报期限（天）",
                    ),
                ),
                (
                    "reminder_days",
                    models.JSONField(
                        blank=True,
                        default=tenancy.models.reviews.default_review_reminder_days,
                        verbose_name="年审提醒（截止前天数）",
                    ),
                ),
                (
                    "renewal_notice_months",
                    models.PositiveSmallIntegerField(
                        default=3, verbose_name="续租提醒（到期前月数）"
                    ),
                ),
            ],
            options={
                "verbose_name": "年审与续租规则",
                "verbose_name_plural": "年审与续租规则",
            },
        ),
        migrations.RemoveConstraint(
            model_name="contract",
            name="one_live_contract_per_unit",
        ),
        migrations.RemoveConstraint(
            model_name="contract",
            name="one_live_contract_per_household",
        ),
        migrations.AddField(
            model_name="contract",
            name="renews",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="renewed_by",
                to="tenancy.contract",
                verbose_name="续租自",
            ),
        ),
        migrations.AddConstraint(
            model_name="contract",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("renews__isnull", True),
                    ("status__in", ["awaiting_tenant", "awaiting_approval", "signed", "active"]),
                ),
                fields=("unit",),
                name="one_live_contract_per_unit",
            ),
        ),
        migrations.AddConstraint(
            model_name="contract",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("renews__isnull", True),
                    ("status__in", ["awaiting_tenant", "awaiting_approval", "signed", "active"]),
                ),
                fields=("household",),
                name="one_live_contract_per_household",
            ),
        ),
        migrations.AddConstraint(
            model_name="contract",
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(
                condition=models.Q(
                    ("status__in", ["awaiting_tenant", "awaiting_approval", "signed", "active"])
                ),
                expressions=[
                    ("unit", "="),
                    (
                        tenancy.models.contracts.DateRange(
                            "start_date",
                            "end_date",
                            django.contrib.postgres.fields.ranges.RangeBoundary(
                                inclusive_lower=True, inclusive_upper=True
                            ),
                        ),
                        "&&",
                    ),
                ],
                name="live_contracts_of_unit_do_not_overlap",
            ),
        ),
        migrations.AddConstraint(
            model_name="contract",
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(
                condition=models.Q(
                    ("status__in", ["awaiting_tenant", "awaiting_approval", "signed", "active"])
                ),
                expressions=[
                    ("household", "="),
                    (
                        tenancy.models.contracts.DateRange(
                            "start_date",
                            "end_date",
                            django.contrib.postgres.fields.ranges.RangeBoundary(
                                inclusive_lower=True, inclusive_upper=True
                            ),
                        ),
                        "&&",
                    ),
                ],
                name="live_contracts_of_household_do_not_overlap",
            ),
        ),
        migrations.AddField(
            model_name="annualreview",
            name="contract",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reviews",
                to="tenancy.contract",
                verbose_name="租赁合同",
            ),
        ),
        migrations.AddField(
            model_name="annualreview",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="审核人",
            ),
        ),
        migrations.AddField(
            model_name="annualreview",
            name="household",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="housing.household",
                verbose_name="承租家庭",
            ),
        ),
        migrations.AddField(
            model_name="renewal",
            name="contract",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="renewals",
                to="tenancy.contract",
                verbose_name="原合同",
            ),
        ),
        migrations.AddField(
            model_name="renewal",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="审核人",
            ),
        ),
        migrations.AddField(
            model_name="renewal",
            name="household",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="housing.household",
                verbose_name="承租家庭",
            ),
        ),
        migrations.AddField(
            model_name="renewal",
            name="new_contract",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="renewal_request",
                to="tenancy.contract",
                verbose_name="续租合同",
            ),
        ),
        migrations.AddConstraint(
            model_name="reviewpolicy",
            constraint=models.CheckConstraint(
                condition=models.Q(("answer_days__gte", 1), ("answer_days__lte", 180)),
                name="review_answer_days_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="reviewpolicy",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("renewal_notice_months__gte", 1), ("renewal_notice_months__lte", 12)
                ),
                name="renewal_notice_months_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="annualreview",
            index=models.Index(fields=["status", "due_date"], name="review_status_due_idx"),
        ),
        migrations.AddConstraint(
            model_name="annualreview",
            constraint=models.UniqueConstraint(
                fields=("contract", "year"), name="one_review_per_year"
            ),
        ),
        migrations.AddConstraint(
            model_name="annualreview",
            constraint=models.CheckConstraint(
                condition=models.Q(("due_date__gte", models.F("opened_on"))),
                name="review_due_after_open",
            ),
        ),
        migrations.AddIndex(
            model_name="renewal",
            index=models.Index(fields=["status"], name="renewal_status_idx"),
        ),
        migrations.AddConstraint(
            model_name="renewal",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")),
                fields=("contract",),
                name="one_pending_renewal_per_contract",
            ),
        ),
    ]
