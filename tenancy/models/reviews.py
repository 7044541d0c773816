"""年审 and 续租: the yearly confirmation of a tenant household and the request to renew a lease.

Both keep what the household declared and what the departments answered (the answers as
exchange.Evidence rows, personal declarations encrypted here); staff decide with reasons.
Status changes only through tenancy.services.annual_reviews / renewals.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from archive.fields import EncryptedJSONField
from geo.models import Region
from housing.models import Household
from tenancy.models.contracts import Contract


def default_review_reminder_days() -> list[int]:
    """Days before the deadline on which an unanswered review is reminded (demo values)."""
    return [14, 3]


class ReviewPolicy(models.Model):
    """A county's 年审 and 续租 calendar, as data."""

    county = models.OneToOneField(
        Region, verbose_name=_("区县"), on_delete=models.PROTECT, primary_key=True
    )
    answer_days = models.PositiveSmallIntegerField(
        _("年审填报期限（天）"), default=30, help_text=_("从年审开启之日起算")
    )
    reminder_days = models.JSONField(
        _("年审提醒（截止前天数）"), default=default_review_reminder_days, blank=True
    )
    renewal_notice_months = models.PositiveSmallIntegerField(_("续租提醒（到期前月数）"), default=3)

    class Meta:
        verbose_name = _("年审与续租规则")
        verbose_name_plural = _("年审与续租规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(answer_days__gte=1) & Q(answer_days__lte=180),
                name="review_answer_days_valid",
            ),
            models.CheckConstraint(
                condition=Q(renewal_notice_months__gte=1) & Q(renewal_notice_months__lte=12),
                name="renewal_notice_months_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.county} 年审与续租规则"


class AnnualReview(models.Model):
    """One year's 年审 of one lease, opened on the lease's anniversary."""

    class Status(models.TextChoices):
        OPEN = "open", _("待填报")
        SUBMITTED = "submitted", _("待审核")
        APPROVED = "approved", _("审核通过")
        REJECTED = "rejected", _("审核不通过")
        MISSED = "missed", _("逾期未填报")

    contract = models.ForeignKey(
        Contract, verbose_name=_("租赁合同"), on_delete=models.PROTECT, related_name="reviews"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("承租家庭"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_on = models.DateField(_("开启日期"))
    due_date = models.DateField(_("填报截止"))
    reminded_days = models.JSONField(_("已提醒（截止前天数）"), default=list, blank=True)
    # What the household confirmed: members, monthly income, housing, changes (personal).
    answers = EncryptedJSONField(_("填报内容"), null=True, blank=True)
    findings = models.JSONField(_("比对结果"), default=list, blank=True)
    passed = models.BooleanField(_("比对符合"), null=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reasons = models.TextField(_("审核意见"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("年审")
        verbose_name_plural = _("年审")
        ordering = ["due_date", "pk"]
        indexes = [models.Index(fields=["status", "due_date"], name="review_status_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["contract", "year"], name="one_review_per_year"),
            models.CheckConstraint(
                condition=Q(due_date__gte=models.F("opened_on")), name="review_due_after_open"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} 年审 {self.contract_id}"


class Renewal(models.Model):
    """续租申请: the tenant asks, the departments are queried, the county decides; approval
    drafts the next lease (Contract.renews), signed like any other."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已同意续租")
        REJECTED = "rejected", _("不予续租")
        WITHDRAWN = "withdrawn", _("已撤回")

    contract = models.ForeignKey(
        Contract, verbose_name=_("原合同"), on_delete=models.PROTECT, related_name="renewals"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("承租家庭"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    months = models.PositiveSmallIntegerField(_("续租期限（月）"))
    answers = EncryptedJSONField(_("申请内容"), null=True, blank=True)
    findings = models.JSONField(_("比对结果"), default=list, blank=True)
    passed = models.BooleanField(_("比对符合"), default=False)
    checked_at = models.DateTimeField(_("比对时间"), null=True, blank=True)
    new_contract = models.OneToOneField(
        Contract,
        verbose_name=_("续租合同"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="renewal_request",
    )
    requested_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reasons = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("续租申请")
        verbose_name_plural = _("续租申请")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status"], name="renewal_status_idx")]
        constraints = [
            # One request waiting per lease, however often the button is pressed (an approved
            # one is then followed by its live renewal lease, Contract.renews).
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(status="pending"),
                name="one_pending_renewal_per_contract",
            ),
        ]

    def __str__(self) -> str:
        return f"续租 {self.contract_id} {self.get_status_display()}"


class RenewalNotice(models.Model):
    """The one 'your lease ends soon' notice per lease: its row is the proof it went out."""

    contract = models.OneToOneField(
        Contract, on_delete=models.PROTECT, primary_key=True, related_name="renewal_notice"
    )
    sent_at = models.DateTimeField(_("提醒时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("续租提醒")
        verbose_name_plural = _("续租提醒")

    def __str__(self) -> str:
        return f"续租提醒 {self.contract_id}"
