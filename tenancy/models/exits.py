"""退出: a tenancy's way out (voluntary notice, end without renewal, no longer eligible,
violation), through the move-out inspection to the deposit settlement.

Every step is a function in tenancy.services.exits with its archive event; the figures of the
settlement are kept on the exit as they were when it was settled.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from tenancy.models.contracts import Contract


class Exit(models.Model):
    """One exit of one lease; at most one open per contract (a withdrawn one may be followed by
    another)."""

    class Reason(models.TextChoices):
        VOLUNTARY = "voluntary", _("承租人主动退租")
        EXPIRED = "expired", _("租期届满未续租")
        INELIGIBLE = "ineligible", _("不再符合保障条件")
        VIOLATION = "violation", _("违规收回")

    class Status(models.TextChoices):
        NOTICE = "notice", _("待腾退")
        TRANSITION = "transition", _("过渡期（市场租金）")
        SETTLEMENT = "settlement", _("已验房待结算")
        SETTLED = "settled", _("已结算办结")
        WITHDRAWN = "withdrawn", _("已撤回")

    class Condition(models.TextChoices):
        GOOD = "good", _("完好")
        WORN = "worn", _("正常损耗")
        DAMAGED = "damaged", _("有损坏")

    class Outcome(models.TextChoices):
        VACANT = "vacant", _("空置待配租")
        REPAIR = "repair", _("转维修")

    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="exits"
    )
    reason = models.CharField(_("退出原因"), max_length=12, choices=Reason.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.NOTICE
    )
    # Where the exit came from: a violation case, a re-check hit, the tenant's own words.
    source_ref = models.CharField(_("来源"), max_length=200, blank=True)
    notice_date = models.DateField(_("通知日期"))
    move_out_by = models.DateField(_("腾退期限"))
    # Ineligible: the lease's rent before the transition at market rent, to restore on withdrawal.
    rent_before = models.DecimalField(
        _("过渡前月租金"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    subsidy_before = models.DecimalField(
        _("过渡前月补贴"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    transition_rent = models.DecimalField(
        _("过渡期月租金"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    moved_out_on = models.DateField(_("实际腾退日期"), null=True, blank=True)
    condition = models.CharField(_("房屋状况"), max_length=8, choices=Condition.choices, blank=True)
    inspection_notes = models.TextField(_("验房记录"), blank=True)
    # [{"item": "卫生间门", "amount": "300.00", "note": "门框开裂"}]
    damages = models.JSONField(_("损坏赔偿明细"), default=list, blank=True)
    damages_total = models.DecimalField(
        _("损坏赔偿合计（元）"), max_digits=9, decimal_places=2, default=Decimal("0")
    )
    outcome = models.CharField(_("房屋去向"), max_length=8, choices=Outcome.choices, blank=True)
    deposit = models.DecimalField(
        _("押金（元）"), max_digits=9, decimal_places=2, null=True, blank=True
    )
    unpaid = models.DecimalField(
        _("未缴租金（元）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    rent_credit = models.DecimalField(
        _("腾退后多计租金（元）"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    balance = models.DecimalField(
        _("结算余额（元，正数退还，负数应补缴）"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
    )
    withdrawn_reason = models.CharField(_("撤回原因"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("发起时间"), auto_now_add=True)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    inspected_at = models.DateTimeField(_("验房时间"), null=True, blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    settled_at = models.DateTimeField(_("结算时间"), null=True, blank=True)

    OPEN = ["notice", "transition", "settlement"]

    class Meta:
        verbose_name = pgettext_lazy("move-out", "退出")
        verbose_name_plural = pgettext_lazy("move-out", "退出")
        ordering = ["move_out_by", "pk"]
        indexes = [models.Index(fields=["status", "move_out_by"], name="exit_status_due_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(status__in=["notice", "transition", "settlement"]),
                name="one_open_exit_per_contract",
            ),
            models.CheckConstraint(
                condition=Q(damages_total__gte=0), name="exit_damages_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(move_out_by__gte=models.F("notice_date")),
                name="exit_deadline_after_notice",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract} {self.get_reason_display()}"

    @property
    def refund(self) -> Decimal | None:
        return None if self.balance is None else max(self.balance, Decimal("0"))

    @property
    def amount_due(self) -> Decimal | None:
        return None if self.balance is None else max(-self.balance, Decimal("0"))
