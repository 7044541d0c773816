"""合同签订: a county's lease rules and templates, and the lease per accepted offer signed online.

Money is Decimal in yuan with two places; every status change goes through tenancy.services,
which record archive events (一房一档 / 一户一档).
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeBoundary, RangeOperators
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from allocation.models import Offer
from archive.models import Document
from geo.models import Region, Unit
from housing.models import Household

LIVE = ["awaiting_tenant", "awaiting_approval", "signed", "active"]


class DateRange(models.Func):
    function = "daterange"
    output_field = DateRangeField()


# The lease's days, both ends included: a renewal starting the day after does not overlap.
TERM = DateRange(
    "start_date", "end_date", RangeBoundary(inclusive_lower=True, inclusive_upper=True)
)


def default_subsidy_tiers() -> list[dict]:
    """Demo values a city edits (tenancy/subsidy.py reads them): 低保/特困 pay a fixed share,
    other households get a share of the rent off by income per head."""
    return [
        {"priority": "dibao", "tenant_share": "0.10"},
        {"income_per_head_below": "1000", "subsidy_share": "0.60"},
        {"income_per_head_below": "1800", "subsidy_share": "0.30"},
    ]


class TenancyPolicy(models.Model):
    """A county's lease and rent rules, as data."""

    county = models.OneToOneField(
        Region, verbose_name=_("区县"), on_delete=models.PROTECT, primary_key=True
    )
    max_term_months = models.PositiveSmallIntegerField(
        _("最长租期（月）"), default=36, help_text=_("国家规定一般不超过 5 年（60 个月）")
    )
    deposit_months = models.DecimalField(
        _("押金（月租金倍数）"), max_digits=4, decimal_places=2, default=Decimal("1")
    )
    subsidy_tiers = models.JSONField(_("租金补贴档次"), default=default_subsidy_tiers)
    due_day = models.PositiveSmallIntegerField(_("每月缴费截止日"), default=15)
    reminder_days = models.JSONField(_("逾期提醒（天）"), default=list)
    arrears_warning_months = models.PositiveSmallIntegerField(_("欠租预警（月）"), default=6)
    # 退出: the notice a tenant gives, and the transition of a household no longer eligible.
    exit_notice_days = models.PositiveSmallIntegerField(_("退租提前通知（天）"), default=30)
    transition_months = models.PositiveSmallIntegerField(_("不符合条件过渡期（月）"), default=6)
    market_rent_factor = models.DecimalField(
        _("过渡期租金（公租房租金倍数）"),
        max_digits=4,
        decimal_places=2,
        default=Decimal("1.50"),
        help_text=_("过渡期按市场租金计收：公租房租金 × 该倍数"),
    )

    class Meta:
        verbose_name = _("租赁规则")
        verbose_name_plural = _("租赁规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(max_term_months__gte=1) & Q(max_term_months__lte=60),
                name="tenancy_term_within_national_limit",
            ),
            models.CheckConstraint(
                condition=Q(due_day__gte=1) & Q(due_day__lte=28), name="tenancy_due_day_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county} 租赁规则"


class LeaseTemplate(models.Model):
    """A county's lease text, versioned: an edit is a new version, a contract keeps its own."""

    county = models.ForeignKey(
        Region, verbose_name=_("区县"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField(_("版本"))
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("合同正文（HTML）"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("合同范本")
        verbose_name_plural = _("合同范本")
        ordering = ["county", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["county", "version"], name="lease_template_version")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class Contract(models.Model):
    class Status(models.TextChoices):
        AWAITING_TENANT = "awaiting_tenant", _("待承租人确认")
        AWAITING_APPROVAL = "awaiting_approval", _("待运营单位审核")
        SIGNED = "signed", _("已签订待入住")
        ACTIVE = "active", _("履行中")
        ENDED = "ended", _("已终止")
        CANCELLED = "cancelled", _("已作废")

    number = models.CharField(_("合同编号"), max_length=20, unique=True)
    # None only for a lease recorded from before the system (存量合同): no offer led to it.
    offer = models.OneToOneField(
        Offer,
        verbose_name=_("配租结果"),
        on_delete=models.PROTECT,
        related_name="contract",
        null=True,
        blank=True,
    )
    household = models.ForeignKey(
        Household, verbose_name=_("承租家庭"), on_delete=models.PROTECT, related_name="contracts"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="contracts"
    )
    template = models.ForeignKey(
        LeaseTemplate, verbose_name=_("合同范本"), on_delete=models.PROTECT, related_name="+"
    )
    monthly_rent = models.DecimalField(_("月租金（元）"), max_digits=8, decimal_places=2)
    monthly_subsidy = models.DecimalField(_("月租金补贴（元）"), max_digits=8, decimal_places=2)
    deposit = models.DecimalField(_("押金（元）"), max_digits=9, decimal_places=2)
    start_date = models.DateField(_("租期开始"))
    end_date = models.DateField(_("租期结束"))
    clauses = models.TextField(_("补充条款"), blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=Status.choices, default=Status.AWAITING_TENANT
    )
    draft = models.ForeignKey(
        Document, verbose_name=_("待签合同"), on_delete=models.PROTECT, related_name="+"
    )
    signed = models.ForeignKey(
        Document,
        verbose_name=_("已签合同"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    tenant_confirmation = models.JSONField(_("承租人确认记录"), default=dict, blank=True)
    tenant_confirmed_at = models.DateTimeField(_("承租人确认时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(_("签订时间"), null=True, blank=True)
    check_in_date = models.DateField(_("入住日期"), null=True, blank=True)
    ended_on = models.DateField(_("终止日期"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    # 续租: the lease this one continues (no offer, no move-in; it starts the day after).
    renews = models.OneToOneField(
        "self",
        verbose_name=_("续租自"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewed_by",
    )

    class Meta:
        verbose_name = _("租赁合同")
        verbose_name_plural = _("租赁合同")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "end_date"], name="contract_status_end_idx"),
            models.Index(fields=["unit", "status"], name="contract_unit_idx"),
        ]
        constraints = [
            # One live lease per unit and per household, whoever clicks at the same moment;
            # a renewal (renews set) may wait beside the lease it continues, never overlap it.
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(status__in=LIVE, renews__isnull=True),
                name="one_live_contract_per_unit",
            ),
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(status__in=LIVE, renews__isnull=True),
                name="one_live_contract_per_household",
            ),
            ExclusionConstraint(
                name="live_contracts_of_unit_do_not_overlap",
                expressions=[
                    ("unit", RangeOperators.EQUAL),
                    (TERM, RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=LIVE),
            ),
            ExclusionConstraint(
                name="live_contracts_of_household_do_not_overlap",
                expressions=[
                    ("household", RangeOperators.EQUAL),
                    (TERM, RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=LIVE),
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")), name="contract_term_positive"
            ),
            models.CheckConstraint(
                condition=Q(monthly_subsidy__gte=0) & Q(monthly_subsidy__lte=F("monthly_rent")),
                name="contract_subsidy_within_rent",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def tenant_rent(self) -> Decimal:
        return self.monthly_rent - self.monthly_subsidy
