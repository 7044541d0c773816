"""维修: what tenants (or staff) report about a unit, who fixes it and when, and the photos.

Deadlines come from the category (data a city edits) and are fixed on the repair when it is
reported; the timestamps are kept as columns because operator evaluation aggregates them per
operator and quarter. Status changes go through tenancy.services.repairs only.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from archive.models import Document
from geo.models import Estate, Operator, Unit
from housing.models import Household
from tenancy.models.contracts import Contract

# One definition of each upload limit: the form says it, the view and the service enforce it.
MAX_PHOTOS = 6
PHOTO_MAX_BYTES = 8 * 1024 * 1024
PHOTOS_MAX_TOTAL_BYTES = 20 * 1024 * 1024


class RepairCategory(models.Model):
    """A kind of repair with its response and completion deadlines (e.g. 水电急修 24 h)."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    respond_hours = models.PositiveIntegerField(_("响应时限（小时）"))
    complete_hours = models.PositiveIntegerField(_("完成时限（小时）"))
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("可选"), default=True)

    class Meta:
        verbose_name = _("维修类别")
        verbose_name_plural = _("维修类别")
        ordering = ["order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(respond_hours__gte=1)
                & Q(complete_hours__gte=models.F("respond_hours")),
                name="repair_category_deadlines_sane",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Repair(models.Model):
    class Status(models.TextChoices):
        REPORTED = "reported", _("待派单")
        ASSIGNED = "assigned", _("已派单")
        SCHEDULED = "scheduled", _("已预约上门")
        CLOSED = "closed", _("已完工")
        CONFIRMED = "confirmed", _("已确认完成")

    class Source(models.TextChoices):
        TENANT = "tenant", _("承租人报修")
        STAFF = "staff", _("工作人员登记")

    number = models.CharField(_("工单编号"), max_length=20, unique=True)
    unit = models.ForeignKey(
        Unit, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="repairs"
    )
    # Where the unit and its operator were when reported: the evaluation counts it there.
    estate = models.ForeignKey(
        Estate, verbose_name=_("项目"), on_delete=models.PROTECT, related_name="+"
    )
    operator = models.ForeignKey(
        Operator,
        verbose_name=_("运营单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("租赁合同"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repairs",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("承租家庭"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="repairs",
    )
    tenant_confirms = models.BooleanField(_("需承租人确认"), default=False)
    category = models.ForeignKey(
        RepairCategory, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="+"
    )
    description = models.TextField(_("问题描述"))
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.REPORTED
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    assignee_name = models.CharField(_("维修人员/班组"), max_length=60, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("维修负责人（账号）"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    respond_by = models.DateTimeField(_("响应时限"))
    complete_by = models.DateTimeField(_("完成时限"))
    reported_at = models.DateTimeField(_("报修时间"))
    assigned_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    scheduled_for = models.DateTimeField(_("预约上门时间"), null=True, blank=True)
    first_visit_at = models.DateTimeField(_("首次预约上门时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("完工时间"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    close_note = models.TextField(_("完工说明"), blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("返修次数"), default=0)
    reopen_reason = models.TextField(_("最近返修原因"), blank=True)

    class Meta:
        verbose_name = _("维修工单")
        verbose_name_plural = _("维修工单")
        ordering = ["-reported_at"]
        indexes = [
            models.Index(fields=["operator", "reported_at"], name="repair_operator_reported_idx"),
            models.Index(fields=["estate", "status"], name="repair_estate_status_idx"),
            models.Index(fields=["status", "complete_by"], name="repair_status_due_idx"),
            models.Index(fields=["unit", "status"], name="repair_unit_status_idx"),
            models.Index(fields=["household", "reported_at"], name="repair_household_idx"),
            models.Index(fields=["operator", "closed_at"], name="repair_operator_closed_idx"),
            # 统计分析: the repairs reported in a period, whoever runs the estate.
            models.Index(fields=["reported_at"], name="repair_reported_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(complete_by__gte=models.F("respond_by")),
                name="repair_deadlines_ordered",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["reported", "assigned", "scheduled"])
                | Q(closed_at__isnull=False),
                name="repair_closed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="confirmed")
                | Q(confirmed_at__isnull=False)
                | Q(tenant_confirms=False),
                name="repair_confirmed_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    OPEN = ("reported", "assigned", "scheduled")

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def awaits_tenant(self) -> bool:
        return self.status == self.Status.CLOSED and self.tenant_confirms


class RepairPhoto(models.Model):
    """A photo re-encoded without metadata, kept content-addressed; shown only through views
    that check who asks."""

    class Stage(models.TextChoices):
        REPORT = "report", _("报修照片")
        CLOSE = "close", _("完工照片")

    repair = models.ForeignKey(
        Repair, verbose_name=_("维修工单"), on_delete=models.CASCADE, related_name="photos"
    )
    document = models.ForeignKey(
        Document, verbose_name=_("文件"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.CharField(_("环节"), max_length=10, choices=Stage.choices)
    width = models.PositiveIntegerField(_("宽"))
    height = models.PositiveIntegerField(_("高"))
    added_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("维修照片")
        verbose_name_plural = _("维修照片")
        ordering = ["repair", "added_at", "pk"]

    def __str__(self) -> str:
        return f"{self.repair} {self.get_stage_display()}"
