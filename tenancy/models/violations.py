"""违规与清理整顿: kinds of violation as data, cases from every source (re-check, inspections,
complaints, utility data, arrears, staff), grid workers' visits, public complaints and monthly
water/electricity readings that reveal idle units. Changes go through tenancy.services.violations,
.inspections and .complaints, which record archive events.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from archive.fields import EncryptedCharField
from archive.models import Document
from geo.models import Estate, Region, Unit
from housing.models import Household
from tenancy.models.contracts import Contract


class ViolationKind(models.Model):
    """A kind of violation with the days each step may take and the credit conduct it may
    propose (a code of the credit catalogue, consumed by the credit module)."""

    code = models.SlugField(_("代码"), max_length=30, unique=True)
    name = models.CharField(_("名称"), max_length=40)
    description = models.TextField(_("认定标准"), blank=True)
    investigation_days = models.PositiveSmallIntegerField(_("调查期限（天）"), default=15)
    decision_days = models.PositiveSmallIntegerField(_("处理决定期限（天）"), default=10)
    rectification_days = models.PositiveSmallIntegerField(_("整改期限（天）"), default=30)
    credit_conduct = models.CharField(_("可建议的失信行为代码"), max_length=40, blank=True)
    rule = models.JSONField(_("判定参数"), default=dict, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("违规类型")
        verbose_name_plural = _("违规类型")
        ordering = ["order", "code"]

    def __str__(self) -> str:
        return self.name


class ViolationCase(models.Model):
    """One suspected violation of one unit, worked step by step: investigation → decision →
    (rectification follow-up) → closed. At most one open case per unit, kind and source."""

    class Source(models.TextChoices):
        RECHECK = "recheck", _("动态核查")
        INSPECTION = "inspection", _("入户巡查")
        COMPLAINT = "complaint", _("群众举报")
        UTILITY = "utility", _("水电数据")
        ARREARS = "arrears", _("欠租预警")
        MANUAL = "manual", _("工作人员登记")

    class Status(models.TextChoices):
        INVESTIGATING = "investigating", _("调查中")
        DECIDING = "deciding", _("待处理决定")
        RECTIFYING = "rectifying", _("限期整改中")
        CLOSED = "closed", _("已结案")

    class Decision(models.TextChoices):
        WARNING = "warning", _("警告")
        RECTIFICATION = "rectification", _("限期整改")
        CANCEL = "cancel", _("取消保障资格")
        RECOVER = "recover", _("收回房屋")

    class Outcome(models.TextChoices):
        UNFOUNDED = "unfounded", _("查无违规")
        WARNED = "warned", _("已警告")
        RECTIFIED = "rectified", _("已整改")
        EXIT = "exit", _("转入退出程序")

    unit = models.ForeignKey(
        Unit, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="violation_cases"
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("合同"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="violation_cases",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("承租家庭"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="violation_cases",
    )
    kind = models.ForeignKey(
        ViolationKind, verbose_name=_("违规类型"), on_delete=models.PROTECT, related_name="cases"
    )
    source = models.CharField(_("线索来源"), max_length=12, choices=Source.choices)
    source_ref = models.CharField(_("来源编号"), max_length=64, blank=True)
    summary = models.CharField(_("线索摘要"), max_length=300)
    evidence = models.JSONField(_("线索证据"), default=dict, blank=True)
    status = models.CharField(
        _("状态"), max_length=14, choices=Status.choices, default=Status.INVESTIGATING
    )
    step_due = models.DateField(_("本环节期限"))
    decision = models.CharField(_("处理决定"), max_length=14, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("决定理由"), blank=True)
    rectify_by = models.DateField(_("整改期限"), null=True, blank=True)
    # {"conduct": "...", "reason": "..."}: kept here until the credit module takes it up.
    proposed_credit = models.JSONField(_("建议信用记录"), default=dict, blank=True)
    outcome = models.CharField(_("结案结果"), max_length=10, choices=Outcome.choices, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField(_("立案时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("决定时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("违规案件")
        verbose_name_plural = _("违规案件")
        ordering = ["-opened_at"]
        indexes = [models.Index(fields=["status", "step_due"], name="violation_open_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["unit", "kind", "source_ref"],
                condition=~Q(status="closed"),
                name="one_open_violation_per_lead",
            ),
            models.CheckConstraint(
                condition=~Q(status="rectifying") | Q(rectify_by__isnull=False),
                name="violation_rectifying_has_deadline",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} · {self.unit}"

    @property
    def number(self) -> str:
        return f"WG{self.opened_at:%Y}-{self.pk:06d}"

    def is_overdue(self, today) -> bool:
        return self.status != self.Status.CLOSED and self.step_due < today


class CaseRecord(models.Model):
    """调查记录: a visit, an interview or a follow-up check, with its photos."""

    class Kind(models.TextChoices):
        VISIT = "visit", _("实地核查")
        INTERVIEW = "interview", _("约谈笔录")
        NOTE = "note", _("情况说明")
        FOLLOW_UP = "follow_up", _("整改复查")

    case = models.ForeignKey(ViolationCase, on_delete=models.CASCADE, related_name="records")
    kind = models.CharField(_("记录类型"), max_length=10, choices=Kind.choices)
    text = models.TextField(_("内容"))
    photos = models.ManyToManyField(Document, verbose_name=_("照片"), blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("调查记录")
        verbose_name_plural = _("调查记录")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()}"


class Inspection(models.Model):
    """入户巡查: a grid worker's visit to a unit of their community."""

    class Answered(models.TextChoices):
        TENANT = "tenant", _("承租人本人")
        FAMILY = "family", _("共同居住家庭成员")
        OTHER = "other", _("其他人员")
        NOBODY = "nobody", _("无人应门")

    unit = models.ForeignKey(
        Unit, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="inspections"
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    visited_on = models.DateField(_("巡查日期"))
    occupant_present = models.BooleanField(_("有人居住"))
    answered_by = models.CharField(_("应门人"), max_length=8, choices=Answered.choices)
    notes = models.TextField(_("巡查情况"), blank=True)
    suspected = models.ForeignKey(
        ViolationKind,
        verbose_name=_("疑似违规"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    case = models.ForeignKey(
        ViolationCase, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    photos = models.ManyToManyField(Document, verbose_name=_("照片"), blank=True, related_name="+")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("入户巡查")
        verbose_name_plural = _("入户巡查")
        ordering = ["-visited_on", "-pk"]
        indexes = [models.Index(fields=["unit", "visited_on"], name="inspection_unit_idx")]

    def __str__(self) -> str:
        return f"{self.unit} {self.visited_on}"


class Complaint(models.Model):
    """群众举报: a report from the public about an estate (and maybe a unit), triaged by the
    county; the reporter's phone, if given, is kept encrypted and never shown publicly."""

    class Status(models.TextChoices):
        NEW = "new", _("待处理")
        CASE = "case", _("已立案")
        DISMISSED = "dismissed", _("不予立案")

    reference = models.CharField(_("受理编号"), max_length=16, unique=True)
    estate = models.ForeignKey(
        Estate, verbose_name=_("项目（小区）"), on_delete=models.PROTECT, related_name="+"
    )
    county = models.ForeignKey(
        Region, verbose_name=_("区县"), on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("房屋"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="complaints",
    )
    place = models.CharField(_("楼栋房号（举报人填写）"), max_length=60, blank=True)
    kind = models.ForeignKey(
        ViolationKind,
        verbose_name=_("举报事项"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    text = models.TextField(_("举报内容"))
    anonymous = models.BooleanField(_("匿名"), default=True)
    phone = EncryptedCharField(_("联系电话"), max_length=11, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default="new")
    dismiss_reason = models.TextField(_("不予立案理由"), blank=True)
    case = models.ForeignKey(
        ViolationCase, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("举报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("群众举报")
        verbose_name_plural = _("群众举报")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["county", "status"], name="complaint_queue_idx")]

    def __str__(self) -> str:
        return self.reference


class UtilityReading(models.Model):
    """One unit's water and electricity use in one month (from the utilities' data)."""

    unit = models.ForeignKey(
        Unit, verbose_name=_("房屋"), on_delete=models.PROTECT, related_name="utility_readings"
    )
    month = models.DateField(_("月份"))
    water_m3 = models.DecimalField(_("用水（吨）"), max_digits=9, decimal_places=2)
    electricity_kwh = models.DecimalField(_("用电（度）"), max_digits=9, decimal_places=2)
    source = models.ForeignKey(
        Document, verbose_name=_("导入文件"), on_delete=models.PROTECT, null=True, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("水电读数")
        verbose_name_plural = _("水电读数")
        ordering = ["unit", "month"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "month"], name="one_reading_per_unit_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="reading_month_first_day"),
            models.CheckConstraint(
                condition=Q(water_m3__gte=Decimal("0")) & Q(electricity_kwh__gte=Decimal("0")),
                name="reading_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["month"], name="reading_month_idx")]

    def __str__(self) -> str:
        return f"{self.unit} {self.month:%Y-%m}"
