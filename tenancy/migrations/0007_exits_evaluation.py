"""0007_exits_evaluation: exits (退出), operator evaluation (考核评价), the county's exit rules."""

from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenancy", "0006_violations"),
        ("geo", "0004_search_words_and_natural_order"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EvaluationRules",
            fields=[
                (
                    "city",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        serialize=False,
                        to="geo.region",
                        verbose_name="城市",
                    ),
                ),
                ("metrics", models.JSONField(verbose_name="指标、权重与目标")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="更新时间")),
            ],
            options={
                "verbose_name": "考核规则",
                "verbose_name_plural": "考核规则",
            },
        ),
        migrations.CreateModel(
            name="Exit",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("voluntary", "承租人主动退租"),
                            ("expired", "租期届满未续租"),
                            ("ineligible", "不再符合保障条件"),
                            ("violation", "违规收回"),
                        ],
                        max_length=12,
                        verbose_name="退出原因",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("notice", "待腾退"),
                            ("transition", "过渡期（市场租金）"),
                            ("settlement", "已验房待结算"),
                            ("settled", "已结算办结"),
                            ("withdrawn", "已撤回"),
                        ],
                        default="notice",
                        max_length=12,
                        verbose_name="状态",
                    ),
                ),
                ("source_ref", models.CharField(blank=True, max_length=200, verbose_name="来源")),
                ("notice_date", models.DateField(verbose_name="通知日期")),
                ("move_out_by", models.DateField(verbose_name="腾退期限")),
                (
                    "rent_before",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=8,
                        null=True,
                        verbose_name="过渡前月租金",
                    ),
                ),
                (
                    "subsidy_before",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=8,
                        null=True,
                        verbose_name="过渡前月补贴",
                    ),
                ),
                (
                    "transition_rent",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=8,
                        null=True,
                        verbose_name="过渡期月租金",
                    ),
                ),
                (
                    "moved_out_on",
                    models.DateField(blank=True, null=True, verbose_name="实际腾退日期"),
                ),
                (
                    "condition",
                    models.CharField(
                        blank=True,
                        choices=[("good", "完好"), ("worn", "正常损耗"), ("damaged", "有损坏")],
                        max_length=8,
                        verbose_name="房屋状况",
                    ),
                ),
                ("inspection_notes", models.TextField(blank=True, verbose_name="验房记录")),
                (
                    "damages",
                    models.JSONField(blank=True, default=list, verbose_name="损坏赔偿明细"),
                ),
                (
                    "damages_total",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("0"),
                        max_digits=9,
                        verbose_name="损坏赔偿合计（元）",
                    ),
                ),
                (
                    "outcome",
                    models.CharField(
                        blank=True,
                        choices=[("vacant", "空置待配租"), ("repair", "转维修")],
                        max_length=8,
                        verbose_name="房屋去向",
                    ),
                ),
                (
                    "deposit",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=9,
                        null=True,
                        verbose_name="押金（元）",
                    ),
                ),
                (
                    "unpaid",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=10,
                        null=True,
                        verbose_name="未缴租金（元）",
                    ),
                ),
                (
                    "rent_credit",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=10,
                        null=True,
                        verbose_name="腾退后多计租金（元）",
                    ),
                ),
                (
                    "balance",
                    models.DecimalField(
                        blank=True,
                        decimal_places=2,
                        max_digits=10,
                        null=True,
                        verbose_name="结算余额（元，正数退还，负数应补缴）",
                    ),
                ),
                (
                    "withdrawn_reason",
                    models.CharField(blank=True, max_length=200, verbose_name="撤回原因"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="发起时间")),
                (
                    "inspected_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="验房时间"),
                ),
                (
                    "settled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="结算时间"),
                ),
            ],
            options={
                "verbose_name": "退出",
                "verbose_name_plural": "退出",
                "ordering": ["move_out_by", "pk"],
            },
        ),
        migrations.CreateModel(
            name="OperatorScore",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("quarter", models.CharField(max_length=6, verbose_name="季度")),
                ("metrics", models.JSONField(verbose_name="指标")),
                (
                    "score",
                    models.DecimalField(
                        decimal_places=1, max_digits=5, null=True, verbose_name="得分"
                    ),
                ),
                ("units", models.PositiveIntegerField(default=0, verbose_name="房屋套数")),
                ("computed_at", models.DateTimeField(verbose_name="计算时间")),
                (
                    "published_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="公开时间"),
                ),
            ],
            options={
                "verbose_name": "运营单位考核得分",
                "verbose_name_plural": "运营单位考核得分",
                "ordering": ["-quarter", "-score"],
            },
        ),
        migrations.AddField(
            model_name="tenancypolicy",
            name="exit_notice_days",
            field=models.PositiveSmallIntegerField(default=30, verbose_name="退租提前通知（天）"),
        ),
        migrations.AddField(
            model_name="tenancypolicy",
            name="market_rent_factor",
            field=models.DecimalField(
                decimal_places=2,
                default=Decimal("1.50"),
                help_text="过渡期按市场租金计收：公租房租金 × 该倍数",
                max_digits=4,
                verbose_name="过渡期租金（公租房租金倍数）",
            ),
        ),
        migrations.AddField(
            model_name="tenancypolicy",
            name="transition_months",
            field=models.PositiveSmallIntegerField(
                default=6, verbose_name="不符合条件过渡期（月）"
            ),
        ),
        migrations.AddField(
            model_name="exit",
            name="contract",
            field=models.ForeignKey(
                default=None,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="exits",
                to="tenancy.contract",
                verbose_name="合同",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="exit",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="exit",
            name="inspected_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="exit",
            name="settled_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="operatorscore",
            name="operator",
            field=models.ForeignKey(
                default=None,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="scores",
                to="geo.operator",
                verbose_name="运营单位",
            ),
            preserve_default=False,
        ),
        migrations.AddIndex(
            model_name="exit",
            index=models.Index(fields=["status", "move_out_by"], name="exit_status_due_idx"),
        ),
        migrations.AddConstraint(
            model_name="exit",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["notice", "transition", "settlement"])),
                fields=("contract",),
                name="one_open_exit_per_contract",
            ),
        ),
        migrations.AddConstraint(
            model_name="exit",
            constraint=models.CheckConstraint(
                condition=models.Q(("damages_total__gte", 0)), name="exit_damages_non_negative"
            ),
        ),
        migrations.AddConstraint(
            model_name="exit",
            constraint=models.CheckConstraint(
                condition=models.Q(("move_out_by__gte", models.F("notice_date"))),
                name="exit_deadline_after_notice",
            ),
        ),
        migrations.AddConstraint(
            model_name="operatorscore",
            constraint=models.UniqueConstraint(
                fields=("operator", "quarter"), name="one_score_per_quarter"
            ),
        ),
        migrations.AddConstraint(
            model_name="operatorscore",
            constraint=models.CheckConstraint(
                condition=models.Q(("quarter__regex", "^[0-9]{4}Q[1-4]$")),
                name="score_quarter_format",
            ),
        ),
    ]
