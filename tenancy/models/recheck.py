"""动态核查: runs that re-query the departments for every tenant household, and the hits they
raise (a household whose department records now break one of its county's rules).

A hit is a warning with its evidence for the county to judge, never an eviction: it changes
neither the lease nor the unit. One open hit per household and rule, so a rerun or a resumed
run refreshes what is open instead of doubling it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from archive.fields import EncryptedJSONField
from geo.models import Region
from housing.models import Household
from tenancy.models.contracts import Contract


class RecheckRun(models.Model):
    """One pass over the tenant households in household order; `last_household` is the
    cursor a resumed run starts after."""

    class Status(models.TextChoices):
        RUNNING = "running", _("进行中")
        INTERRUPTED = "interrupted", _("已中断")
        FINISHED = "finished", _("已完成")

    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    resumed_from = models.OneToOneField(
        "self",
        verbose_name=_("接续的核查"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resumed_by",
    )
    source = models.CharField(_("数据来源"), max_length=200)
    total = models.PositiveIntegerField(_("应核查户数"), default=0)
    done = models.PositiveIntegerField(_("已核查户数"), default=0)
    last_household = models.BigIntegerField(_("已核查到（家庭编号）"), default=0)
    hits_new = models.PositiveIntegerField(_("新增疑点"), default=0)
    hits_refreshed = models.PositiveIntegerField(_("仍存在的疑点"), default=0)
    hits_cleared = models.PositiveIntegerField(_("已恢复符合"), default=0)
    error = models.TextField(_("中断原因"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发起人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("动态核查批次")
        verbose_name_plural = _("动态核查批次")
        ordering = ["-started_at", "-pk"]
        constraints = [
            # One run at a time: two would race for the same households.
            models.UniqueConstraint(
                fields=["status"], condition=Q(status="running"), name="one_running_recheck"
            )
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.get_status_display()}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else min(100, round(100 * self.done / self.total))


class RecheckHit(models.Model):
    """疑点: one household breaking one rule, with the department's answer as evidence."""

    class Status(models.TextChoices):
        OPEN = "open", _("待核实")
        DISMISSED = "dismissed", _("核实无误（误报）")
        EXIT_STARTED = "exit_started", _("已启动退出")
        CASE_OPENED = "case_opened", _("已违规立案")
        CLEARED = "cleared", _("复查已符合")

    household = models.ForeignKey(
        Household, verbose_name=_("承租家庭"), on_delete=models.PROTECT, related_name="recheck_hits"
    )
    contract = models.ForeignKey(
        Contract, verbose_name=_("合同"), on_delete=models.PROTECT, related_name="recheck_hits"
    )
    county = models.ForeignKey(
        Region, verbose_name=_("区县"), on_delete=models.PROTECT, related_name="+"
    )
    criterion = models.CharField(_("条件"), max_length=20)
    department = models.CharField(_("部门"), max_length=20)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    # The finding as housing.rules reports it (label, operator, threshold, found, unit) and
    # the department's answer it was read from: personal data, so encrypted at rest.
    finding = models.JSONField(_("比对结果"))
    evidence = EncryptedJSONField(_("部门返回数据"))
    payload_hash = models.CharField(_("数据哈希"), max_length=64)
    first_run = models.ForeignKey(
        RecheckRun, verbose_name=_("发现于"), on_delete=models.PROTECT, related_name="+"
    )
    last_run = models.ForeignKey(
        RecheckRun, verbose_name=_("最近核查"), on_delete=models.PROTECT, related_name="hits"
    )
    first_seen_at = models.DateTimeField(_("发现时间"))
    last_seen_at = models.DateTimeField(_("最近核查时间"))
    seen_count = models.PositiveIntegerField(_("核查次数"), default=1)
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(_("处理意见"), blank=True)
    follow_up = models.CharField(_("后续案件"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("动态核查疑点")
        verbose_name_plural = _("动态核查疑点")
        ordering = ["-first_seen_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "county", "criterion"], name="recheck_hit_queue_idx"),
            models.Index(fields=["household", "criterion"], name="recheck_hit_household_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "criterion"],
                condition=Q(status="open"),
                name="one_open_recheck_hit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.criterion} {self.get_status_display()}"
