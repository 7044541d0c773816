"""批量下载 of archive files: one row per requested ZIP, its progress and where it lies on disk.

The ZIP is written by a background job under MEDIA_ROOT/batches/ and served only to the staff
member who asked for it (never from MEDIA_URL); it expires and is then deleted.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class BatchDownload(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")
        EXPIRED = "expired", _("已过期")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    # {"estates": [id…], "units": [id…], "households": [id…], "public_keys": [...],
    #  "since": "YYYY-MM-DD" | None, "until": …}: resolved within the requester's jurisdiction.
    selection = models.JSONField(_("选择范围"), default=dict)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    total_folders = models.PositiveIntegerField(_("目录总数"), default=0)
    done_folders = models.PositiveIntegerField(_("已完成目录"), default=0)
    bytes_written = models.PositiveBigIntegerField(_("已写入字节"), default=0)
    zip_path = models.CharField(_("文件位置"), max_length=300, blank=True)  # under MEDIA_ROOT
    zip_sha256 = models.CharField(_("ZIP 的 SHA-256"), max_length=64, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    error = models.TextField(_("错误信息"), blank=True)

    class Meta:
        verbose_name = _("档案批量下载")
        verbose_name_plural = _("档案批量下载")
        ordering = ["-created_at", "-id"]
        indexes = [
            # "my recent batches" on the page
            models.Index(fields=["requested_by", "-created_at"], name="batch_requester_idx"),
            # the hourly clean-up: finished batches past their expiry
            models.Index(fields=["status", "expires_at"], name="batch_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done_folders__lte=models.F("total_folders")),
                name="batch_progress_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.get_status_display()}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return round(100 * self.done_folders / self.total_folders) if self.total_folders else 0


class WarningQuerySet(models.QuerySet):
    def live(self) -> "WarningQuerySet":
        """Not yet resolved: what the centre and the digest count."""
        return self.exclude(status=Warning.Status.RESOLVED)

    def visible_to(self, user) -> "WarningQuerySet":
        """Owner by jurisdiction: a county's warnings to its county and city, an estate's to its
        operator, street and community; city-wide ones (no county) to the city; all to
        superusers. The one scoping condition for the centre, the home and the digest."""
        from geo.jurisdiction import profile_of
        from geo.models import Region

        if user.is_authenticated and user.is_superuser:
            return self
        profile = profile_of(user)
        if profile is None:
            return self.none()
        if profile.operator_id:
            return self.filter(estate__operator_id=profile.operator_id)
        region = profile.region
        if region is None:
            return self.none()
        if region.level == Region.Level.CITY:
            return self.filter(
                models.Q(county__parent_id=region.pk)
                | models.Q(county_id=region.pk)
                | models.Q(county__isnull=True)
            )
        if region.level == Region.Level.DISTRICT:
            return self.filter(county_id=region.pk)
        field = "street_id" if region.level == Region.Level.STREET else "community_id"
        return self.filter(**{f"estate__{field}": region.pk})


class Warning(models.Model):
    """自动预警: one case one rule found (a subject by kind and id), owned by the county and
    estate it lies in; raised and cleared by the hourly refresh, acknowledged and resolved by
    staff. At most one unresolved warning per rule and subject."""

    class Status(models.TextChoices):
        OPEN = "open", _("待确认")
        ACKNOWLEDGED = "acknowledged", _("已确认、处理中")
        RESOLVED = "resolved", _("已解除")

    rule = models.CharField(_("预警规则"), max_length=40)
    subject_kind = models.CharField(_("对象类型"), max_length=20)
    subject_id = models.BigIntegerField(_("对象编号"))
    # The page where it is handled when that is not the subject's own (an offer's round).
    anchor_id = models.BigIntegerField(null=True, blank=True)
    # For the archive events (一房一档 / 一户一档) when it is acknowledged or resolved.
    unit_id = models.BigIntegerField(null=True, blank=True)
    household_id = models.BigIntegerField(null=True, blank=True)
    summary = models.CharField(_("摘要"), max_length=300)
    county = models.ForeignKey(
        "geo.Region",
        verbose_name=_("区县"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    estate = models.ForeignKey(
        "geo.Estate",
        verbose_name=_("项目（小区）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    first_seen_at = models.DateTimeField(_("首次发现"))
    last_seen_at = models.DateTimeField(_("最近发现"))
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    resolution = models.TextField(_("处理说明"), blank=True)
    auto_resolved = models.BooleanField(_("条件消除后自动解除"), default=False)

    objects = WarningQuerySet.as_manager()

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = _("预警")
        ordering = ["-last_seen_at", "-id"]
        indexes = [
            # the centre: status, then county, then rule filters; newest first
            models.Index(
                fields=["status", "county", "rule", "-last_seen_at"], name="warning_centre_idx"
            ),
            # the operator's and the street's view go through the estate
            models.Index(fields=["estate", "status"], name="warning_estate_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject_kind", "subject_id"],
                condition=~models.Q(status="resolved"),
                name="one_live_warning_per_subject",
            ),
            models.CheckConstraint(
                condition=models.Q(status="resolved", resolved_at__isnull=False)
                | ~models.Q(status="resolved"),
                name="warning_resolved_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.subject_kind}:{self.subject_id} {self.get_status_display()}"


class StaffMessage(models.Model):
    """站内信 for staff (the daily warning digest): kept until read, shown at /staff/messages/."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收件人"),
        on_delete=models.CASCADE,
        related_name="staff_messages",
    )
    kind = models.CharField(_("类别"), max_length=30, blank=True)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内信（工作人员）")
        verbose_name_plural = _("站内信（工作人员）")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="staff_message_inbox_idx"),
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="staff_message_unread_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


# --- 统计分析 summaries: rebuilt by the worker where a live query is too slow at province size --


class SummaryRefresh(models.Model):
    """When a summary table was last rebuilt: the dashboards' "数据截至" and the refresh cost."""

    name = models.CharField(_("汇总表"), max_length=40, primary_key=True)
    refreshed_at = models.DateTimeField(_("数据截至"))
    seconds = models.FloatField(_("用时（秒）"), default=0)
    rows = models.PositiveIntegerField(_("行数"), default=0)

    class Meta:
        verbose_name = _("统计汇总刷新")
        verbose_name_plural = _("统计汇总刷新")

    def __str__(self) -> str:
        return f"{self.name} {self.refreshed_at:%Y-%m-%d %H:%M}"


class ReviewMonth(models.Model):
    """审核时效 per (local month of the decision, county, step): the decisions, those with and
    past a deadline, the refusals, and the time spent at the step (from the decision before it
    on the case)."""

    month = models.DateField(_("月份"))
    county = models.ForeignKey(
        "geo.Region", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    step = models.CharField(_("环节"), max_length=15)
    decided = models.PositiveIntegerField(_("办结"))
    with_deadline = models.PositiveIntegerField(_("有时限"))
    late = models.PositiveIntegerField(_("超过时限"))
    rejected = models.PositiveIntegerField(_("不予通过"))
    timed = models.PositiveIntegerField(_("可计用时"))  # decisions with one before them
    spent = models.DurationField(_("用时合计"))

    class Meta:
        verbose_name = _("审核时效汇总")
        verbose_name_plural = _("审核时效汇总")
        constraints = [
            models.UniqueConstraint(
                fields=["county", "month", "step"],
                nulls_distinct=False,
                name="review_month_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.county_id} {self.step}"


class RentMonth(models.Model):
    """租金收缴 per (bill month, estate): the bills, what they ask and what has been paid."""

    month = models.DateField(_("账期（月）"))
    estate = models.ForeignKey("geo.Estate", on_delete=models.CASCADE, related_name="+")
    bills = models.PositiveIntegerField(_("账单数"))
    billed = models.DecimalField(_("应缴"), max_digits=14, decimal_places=2)
    paid = models.DecimalField(_("已缴"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("租金收缴汇总")
        verbose_name_plural = _("租金收缴汇总")
        constraints = [
            models.UniqueConstraint(fields=["month", "estate"], name="rent_month_unique")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.estate_id}"


class RentArrears(models.Model):
    """欠费 per estate on the day of the rebuild: the leases with a bill past due and not paid
    in full, and what they owe (a lease lies in one estate, so estates add up to counties)."""

    estate = models.OneToOneField(
        "geo.Estate", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    households = models.PositiveIntegerField(_("欠费户数"))
    amount = models.DecimalField(_("欠缴金额"), max_digits=14, decimal_places=2)

    class Meta:
        verbose_name = _("欠费汇总")
        verbose_name_plural = _("欠费汇总")

    def __str__(self) -> str:
        return f"{self.estate_id} {self.households}"


class VacancyEstate(models.Model):
    """空置时长 per estate at the rebuild: its vacant units, the sum of the moments they last
    changed (epoch seconds, so the mean vacant time can be taken at any later moment) and
    those vacant over half a year. The unit counts themselves are geo's, kept by triggers."""

    estate = models.OneToOneField(
        "geo.Estate", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    vacant = models.PositiveIntegerField(_("空置套数"))
    since_total = models.DecimalField(_("空置起点合计（秒）"), max_digits=28, decimal_places=6)
    long = models.PositiveIntegerField(_("空置超半年"))

    class Meta:
        verbose_name = _("空置时长汇总")
        verbose_name_plural = _("空置时长汇总")

    def __str__(self) -> str:
        return f"{self.estate_id} {self.vacant}"
