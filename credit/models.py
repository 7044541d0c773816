"""信用管理: a city-wide record of dishonest conduct in public housing, at three levels.

Nothing becomes a record without 认定: a proposal is made (by a review, the allocation refusal
rule, a violation decision or by hand), the subject is told and may object, the county decides.
A record counts from its decision for its conduct's effect period, or until it is repaired;
it is never deleted. Credit sits low in the layering (applications, allocation and tenancy ask
it and feed it), so it knows households only by id and people by their ID number.
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from archive.fields import BlindIndexField, EncryptedCharField
from geo.models import Region


class Level(models.TextChoices):
    MINOR = "minor", _("轻微失信")
    SERIOUS = "serious", _("较重失信")
    SEVERE = "severe", _("严重失信")


class Stage(models.TextChoices):
    APPLICATION = "application", _("申请")
    ALLOCATION = "allocation", _("轮候配租")
    USE = "use", _("使用")
    EXIT = "exit", pgettext_lazy("move-out", "退出")


class Effect(models.TextChoices):
    """What a record in effect stops; each is enforced where it applies."""

    APPLY = "apply", _("不得提交公租房申请")
    ALLOCATE = "allocate", _("暂停轮候配租")
    RENEW = "renew", _("不予续租")


class Conduct(models.Model):
    """One kind of dishonest conduct in the city's catalogue (data a city edits)."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("失信行为"), max_length=100)
    stage = models.CharField(_("环节"), max_length=12, choices=Stage.choices)
    level = models.CharField(_("失信等级"), max_length=8, choices=Level.choices)
    effect_months = models.PositiveSmallIntegerField(_("影响期限（月）"))
    effects = models.JSONField(_("惩戒措施"), default=list, blank=True)
    consequence = models.CharField(_("惩戒说明"), max_length=200)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("失信行为目录")
        verbose_name_plural = _("失信行为目录")
        ordering = ["stage", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(effect_months__gte=1) & Q(effect_months__lte=120),
                name="credit_conduct_period_sane",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_level_display()}）"


class Subject(models.Model):
    """Who a record is about: a person by ID number (encrypted, found by its blind index) or an
    organisation by 统一社会信用代码."""

    class Kind(models.TextChoices):
        PERSON = "person", _("个人")
        ORGANISATION = "organisation", pgettext_lazy("credit subject", "单位")

    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    name = models.CharField(_("名称"), max_length=100)
    id_number = EncryptedCharField(_("身份证号"), max_length=18, blank=True, index="id_index")
    id_index = BlindIndexField(source="id_number")
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    # A person's household in housing (by id: credit sits below housing), for 一户一档.
    household_id = models.BigIntegerField(_("保障家庭"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("信用主体")
        verbose_name_plural = _("信用主体")
        constraints = [
            models.UniqueConstraint(
                fields=["id_index"], condition=Q(kind="person"), name="credit_one_person"
            ),
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=Q(kind="organisation"),
                name="credit_one_organisation",
            ),
            models.CheckConstraint(
                condition=(Q(kind="person") & ~Q(id_number="") & Q(credit_code=""))
                | (Q(kind="organisation") & Q(id_number="") & ~Q(credit_code="")),
                name="credit_subject_identified",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Proposal(models.Model):
    """拟认定: a stage's report of conduct, waiting for the subject's answer and the decision."""

    class Source(models.TextChoices):
        REVIEW = "review", _("申请审核")
        ALLOCATION = "allocation", _("轮候配租")
        VIOLATION = "violation", _("违规处理")
        EXIT = "exit", pgettext_lazy("move-out", "退出")
        MANUAL = "manual", _("人工录入")

    class Status(models.TextChoices):
        NOTIFIED = "notified", _("已告知，异议期内")
        OBJECTED = "objected", _("当事人提出异议")
        CONFIRMED = "confirmed", _("已认定")
        REJECTED = "rejected", _("不予认定")

    subject = models.ForeignKey(
        Subject, verbose_name=_("信用主体"), on_delete=models.PROTECT, related_name="proposals"
    )
    conduct = models.ForeignKey(Conduct, verbose_name=_("失信行为"), on_delete=models.PROTECT)
    county = models.ForeignKey(
        Region, verbose_name=_("认定单位（区县）"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(_("来源"), max_length=12, choices=Source.choices)
    source_ref = models.CharField(_("来源编号"), max_length=60, blank=True)
    facts = models.TextField(_("失信事实"))
    evidence = models.JSONField(_("证据"), default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.NOTIFIED
    )
    notified_at = models.DateTimeField(_("告知时间"))
    objection_until = models.DateField(_("异议截止"))
    objection = models.TextField(_("异议内容"), blank=True)
    objected_at = models.DateTimeField(_("异议时间"), null=True, blank=True)
    decision = models.TextField(_("认定意见"), blank=True)
    decided_at = models.DateTimeField(_("认定时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("失信认定")
        verbose_name_plural = _("失信认定")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["county", "status"], name="credit_proposal_queue_idx")]
        constraints = [
            # The same report arriving twice (a rerun job, a double click) is one proposal.
            models.UniqueConstraint(
                fields=["subject", "conduct", "source", "source_ref"],
                condition=~Q(source_ref=""),
                name="credit_one_proposal_per_source",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} · {self.conduct.name}"


class Record(models.Model):
    """失信记录: in effect from its decision until `effective_until` (exclusive) unless repaired.
    Repair ends its effect and its publication; the row stays as history."""

    proposal = models.OneToOneField(
        Proposal, verbose_name=_("认定"), on_delete=models.PROTECT, related_name="record"
    )
    subject = models.ForeignKey(
        Subject, verbose_name=_("信用主体"), on_delete=models.PROTECT, related_name="records"
    )
    conduct = models.ForeignKey(Conduct, verbose_name=_("失信行为"), on_delete=models.PROTECT)
    level = models.CharField(_("失信等级"), max_length=8, choices=Level.choices)
    effects = models.JSONField(_("惩戒措施"), default=list)
    county = models.ForeignKey(
        Region, verbose_name=_("认定单位（区县）"), on_delete=models.PROTECT, related_name="+"
    )
    decided_on = models.DateField(_("认定日期"))
    effective_until = models.DateField(_("影响期至（不含）"))
    repaired_on = models.DateField(_("修复日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("失信记录")
        verbose_name_plural = _("失信记录")
        ordering = ["-decided_on", "-pk"]
        indexes = [
            models.Index(fields=["subject", "effective_until"], name="credit_record_subject_idx"),
            models.Index(fields=["county", "decided_on"], name="credit_record_county_idx"),
            # The monthly statistics: periods ending and repairs, by county.
            models.Index(fields=["county", "effective_until"], name="credit_record_expiry_idx"),
            models.Index(fields=["county", "repaired_on"], name="credit_record_repaired_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(effective_until__gt=models.F("decided_on")),
                name="credit_record_period_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} · {self.conduct.name}"

    @property
    def last_day(self) -> date:
        """The last day it counts (what people read: 影响期至, inclusive)."""
        return self.effective_until - timedelta(days=1)

    def in_effect(self, on: date) -> bool:
        return self.repaired_on is None and self.decided_on <= on < self.effective_until

    @classmethod
    def in_effect_q(cls, on: date) -> Q:
        return Q(repaired_on__isnull=True, decided_on__lte=on, effective_until__gt=on)


class Repair(models.Model):
    """信用修复: after correcting the conduct the subject asks, with evidence; the county rules."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("准予修复")
        REFUSED = "refused", _("不予修复")

    record = models.ForeignKey(
        Record, verbose_name=_("失信记录"), on_delete=models.PROTECT, related_name="repairs"
    )
    correction = models.TextField(_("纠正情况"))
    evidence = models.JSONField(_("证明材料"), default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    decision = models.TextField(_("审核意见"), blank=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("信用修复")
        verbose_name_plural = _("信用修复")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["record"], condition=Q(status="pending"), name="credit_one_open_repair"
            )
        ]

    def __str__(self) -> str:
        return f"{self.record} · {self.get_status_display()}"


class Query(models.Model):
    """The city-wide query log: who asked about whom, why, and what they were told.
    Append-only like the archive; the subject is kept as its blind index, never in clear."""

    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(_("查询事由"), max_length=200)
    subject_kind = models.CharField(max_length=12, choices=Subject.Kind.choices)
    subject_key = models.CharField(max_length=64)  # blind index or credit code
    found = models.PositiveSmallIntegerField(_("在效记录数"))
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(_("查询时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("信用查询记录")
        verbose_name_plural = _("信用查询记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.asked_by} {self.at:%Y-%m-%d %H:%M} {self.purpose}"


class ListState(models.Model):
    """The city's public 失信名单: when it last changed and which outbox row carries it."""

    city = models.OneToOneField(Region, on_delete=models.PROTECT, primary_key=True)
    changed_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # A change not yet in a version (the previous one was still on its way): the job's work.
    stale = models.BooleanField(default=False)
    outbox_id = models.BigIntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.city} 失信名单"
