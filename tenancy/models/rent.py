"""租金: monthly bills per contract, payments against them, reminders and arrears warnings."""

from calendar import monthrange
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from archive.models import Document
from tenancy.models.contracts import Contract


class Bill(models.Model):
    """One month's rent of one contract: unique per contract and month, so issuing is idempotent."""

    class Status(models.TextChoices):
        UNPAID = "unpaid", _("未缴")
        PARTIAL = "partial", _("部分缴纳")
        PAID = "paid", _("已缴清")

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="bills")
    month = models.DateField(_("账期（月）"))
    # The contract number (up to 20) and the month: what a tenant writes on a transfer.
    reference = models.CharField(_("缴费编号"), max_length=32, unique=True)
    rent = models.DecimalField(_("租金"), max_digits=9, decimal_places=2)
    subsidy = models.DecimalField(_("补贴"), max_digits=9, decimal_places=2)
    amount = models.DecimalField(_("应缴"), max_digits=9, decimal_places=2)
    days = models.PositiveSmallIntegerField(_("计租天数"))
    paid = models.DecimalField(_("已缴"), max_digits=9, decimal_places=2, default=Decimal("0"))
    status = models.CharField(
        _("状态"), max_length=8, choices=Status.choices, default=Status.UNPAID
    )
    due_date = models.DateField(_("缴费截止"))
    issued_at = models.DateTimeField(_("出账时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("租金账单")
        verbose_name_plural = _("租金账单")
        ordering = ["-month", "contract"]
        indexes = [
            models.Index(fields=["status", "due_date"], name="bill_open_idx"),
            models.Index(fields=["contract", "month"], name="bill_contract_month_idx"),
            # 统计分析: the bills of a period's months, as the history grows by a month a month.
            models.Index(fields=["month"], name="bill_month_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["contract", "month"], name="one_bill_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="bill_month_first_day"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="bill_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def outstanding(self) -> Decimal:
        return self.amount - self.paid

    @property
    def prorated(self) -> bool:
        """Billed for part of its month only (moved in or out during it)."""
        return self.days < monthrange(self.month.year, self.month.month)[1]


class Payment(models.Model):
    class Channel(models.TextChoices):
        COUNTER = "counter", _("窗口缴费")
        BANK = "bank", _("银行代收")

    bill = models.ForeignKey(Bill, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(_("金额"), max_digits=9, decimal_places=2)
    paid_on = models.DateField(_("缴费日期"))
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    bank_reference = models.CharField(_("银行流水号"), max_length=64, blank=True)
    statement = models.ForeignKey(
        Document,
        verbose_name=_("银行对账单"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("缴费记录")
        verbose_name_plural = _("缴费记录")
        ordering = ["-paid_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank_reference"],
                condition=~Q(bank_reference=""),
                name="payment_bank_reference",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.bill} {self.amount}"


class Reminder(models.Model):
    """A reminder sent for an overdue bill at one threshold: never twice for the same one."""

    bill = models.ForeignKey(Bill, on_delete=models.CASCADE, related_name="reminders")
    days_overdue = models.PositiveSmallIntegerField(_("逾期天数"))
    sent_at = models.DateTimeField(_("发送时间"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bill", "days_overdue"], name="one_reminder_per_step")
        ]

    def __str__(self) -> str:
        return f"{self.bill} +{self.days_overdue}d"


class ArrearsWarning(models.Model):
    """欠租预警: a contract whose unpaid months reached the county's limit, for the operator and
    the county to act on; resolved when the arrears fall below it. One open per contract."""

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="arrears_warnings"
    )
    raised_at = models.DateTimeField(_("预警时间"))
    months = models.PositiveSmallIntegerField(_("欠租月数"))
    amount = models.DecimalField(_("欠缴金额（元）"), max_digits=10, decimal_places=2)
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("欠租预警")
        verbose_name_plural = _("欠租预警")
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(resolved_at__isnull=True),
                name="one_open_arrears_warning",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.months}"
