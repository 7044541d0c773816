"""Publications: what the public must know, as immutable, hashed, versioned snapshots.

A decision in the back office writes an Outbox row in its own transaction; a worker turns it
into exactly one Publication (Outbox.publication is unique). Published rows are never updated
or deleted (a database trigger refuses); a correction is a new version in the same series.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from geo.models import Region


class Kind(models.TextChoices):
    REVIEW_NOTICE = "review", _("审核公示")
    WAITLIST = "waitlist", _("轮候名单")
    ALLOCATION_ROUND = "round", _("配租摇号公告")
    ALLOCATION_RESULT = "allocation", _("配租结果")
    DISHONESTY_LIST = "dishonesty", _("失信名单")
    VACANCY_RELEASE = "vacancy", _("房源发布")
    GENERAL_NOTICE = "notice", _("通知公告")
    ARCHIVE_HEAD = "archive", _("档案存证")


class Series(models.Model):
    """One publication and all its corrections share a series: the stable permalink."""

    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name=_("区域"), on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("公开事项")
        verbose_name_plural = _("公开事项")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Outbox(models.Model):
    """A publication waiting to happen, written with the decision that calls for it."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    series = models.ForeignKey(Series, on_delete=models.PROTECT, null=True, blank=True)
    payload = models.JSONField()  # title, body, columns, masked items, period, reason
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=Q(processed_at__isnull=True),
                name="outbox_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return f"outbox #{self.pk} {self.kind}"


class PublicationQuerySet(models.QuerySet):
    def current(self) -> "PublicationQuerySet":
        """The latest version of each series: what lists and feeds show."""
        return self.filter(superseded_by__isnull=True)


class Publication(models.Model):
    series = models.ForeignKey(
        Series, verbose_name=_("公开事项"), on_delete=models.PROTECT, related_name="versions"
    )
    version = models.PositiveIntegerField(_("版本"))
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("更正的版本"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    correction_reason = models.TextField(_("更正原因"), blank=True)
    kind = models.CharField(_("类别"), max_length=12, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name=_("区域"), on_delete=models.PROTECT)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"), blank=True)
    columns = models.JSONField(_("列"), default=list)
    items = models.JSONField(_("名单"), default=list)  # masked rows, as published
    # Machine-readable parts beside the list (a draw's lottery.json); hashed with the rest.
    data = models.JSONField(_("附加数据"), null=True, blank=True)
    content_hash = models.CharField(_("内容哈希"), max_length=64, unique=True)
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now, db_index=True)
    period_ends_at = models.DateTimeField(_("公示截止"), null=True, blank=True)
    outbox = models.OneToOneField(Outbox, on_delete=models.PROTECT, related_name="publication")

    objects = PublicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("公开发布")
        verbose_name_plural = _("公开发布")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["series", "version"], name="publication_version_unique"
            ),
            models.CheckConstraint(
                condition=Q(version=1, supersedes__isnull=True)
                | Q(version__gt=1, supersedes__isnull=False),
                name="publication_correction_chain",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "region", "-published_at"], name="publication_list_idx")
        ]

    def __str__(self) -> str:
        return f"{self.title}（第 {self.version} 版）"

    @property
    def in_publicity(self) -> bool:
        return self.period_ends_at is not None and timezone.now() < self.period_ends_at


class Objection(models.Model):
    """异议: anyone may object to an item during a publicity period; the department handles it."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        SUSTAINED = "sustained", _("异议成立")
        DISMISSED = "dismissed", _("异议不成立")

    publication = models.ForeignKey(
        Publication, verbose_name=_("公示"), on_delete=models.PROTECT, related_name="objections"
    )
    item_key = models.CharField(_("对象"), max_length=64)
    name = models.CharField(_("姓名"), max_length=50)
    contact = models.CharField(_("联系方式"), max_length=50)
    reason = models.TextField(_("异议理由"), max_length=2000)
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    status = models.CharField(
        _("处理状态"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    handling = models.TextField(_("处理情况"), blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("异议")
        verbose_name_plural = _("异议")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="objection_queue_idx")]

    def __str__(self) -> str:
        return f"{self.publication_id}/{self.item_key}：{self.get_status_display()}"


class Page(models.Model):
    """Policies, service guides and the hotline: pages staff keep, in sanitized Markdown."""

    class Section(models.TextChoices):
        POLICY = "policy", _("政策法规")
        GUIDE = "guide", _("办事指南")
        CONTACT = "contact", _("咨询投诉电话")

    section = models.CharField(_("栏目"), max_length=10, choices=Section.choices)
    slug = models.SlugField(_("网址名"), max_length=80, unique=True)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文（Markdown）"), blank=True)
    published = models.BooleanField(_("公开"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    ordering = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("政策与指南")
        verbose_name_plural = _("政策与指南")
        ordering = ["section", "ordering", "title"]

    def __str__(self) -> str:
        return self.title


class Attachment(models.Model):
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("名称"), max_length=200)
    file = models.FileField(_("文件"), upload_to="attachments/%Y/")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.title


class CalendarDay(models.Model):
    """A city-wide correction of the official calendar (disclosure.calendar): a local day off
    (a working day on the State Council's calendar not worked here) or an extra working day.
    Deployment settings (ANJU_HOLIDAYS / ANJU_WORKDAYS) still win over these rows."""

    day = models.DateField(_("日期"), unique=True)
    working = models.BooleanField(_("上班"), help_text=_("是：调休上班；否：放假"))
    reason = models.CharField(_("原因"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("添加人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("添加时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工作日历调整")
        verbose_name_plural = _("工作日历调整")
        ordering = ["day"]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {'上班' if self.working else '放假'}"
