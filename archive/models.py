"""The event log: every change to stock and cases, append-only, the start of 一房一档 / 一户一档.

Subjects are referenced by id without foreign keys, so a record outlives what it describes;
the database refuses UPDATE and DELETE on this table (see the migration's trigger).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.Model):
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    action = models.CharField(_("事项"), max_length=40)
    summary = models.CharField(_("摘要"), max_length=300)
    reason = models.TextField(_("原因"), blank=True)
    estate_id = models.BigIntegerField(_("项目"), null=True, blank=True)
    building_id = models.BigIntegerField(_("楼栋"), null=True, blank=True)
    unit_id = models.BigIntegerField(_("房屋"), null=True, blank=True)
    household_id = models.BigIntegerField(_("家庭"), null=True, blank=True)
    before = models.JSONField(_("变更前"), null=True, blank=True)
    after = models.JSONField(_("变更后"), null=True, blank=True)

    class Meta:
        verbose_name = _("档案事件")
        verbose_name_plural = _("档案事件")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["unit_id", "at"], name="event_unit_idx"),
            models.Index(fields=["estate_id", "at"], name="event_estate_idx"),
            models.Index(fields=["household_id", "at"], name="event_household_idx"),
            # The change histories (policies, calendar, catalogue, templates) list one action.
            models.Index(fields=["action", "id"], name="event_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.summary}"


class AccessRecord(models.Model):
    """A staff member looked at a record: kept for personal-data accountability (PIPL)."""

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    path = models.CharField(_("页面"), max_length=300)
    subject_type = models.CharField(_("对象类型"), max_length=30)
    subject_id = models.BigIntegerField(_("对象"))
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("查阅记录")
        verbose_name_plural = _("查阅记录")
        ordering = ["-at"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="access_subject_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.subject_type}#{self.subject_id}"


class RateCounter(models.Model):
    """Uses of one rate-limited action by one subject in its current window (archive.ratelimit).

    Not part of the append-only record: a row is counted up and restarted in place.
    """

    key = models.CharField(max_length=100, primary_key=True)
    count = models.PositiveIntegerField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key} ×{self.count}"


class Document(models.Model):
    """A file kept by its SHA-256 (contracts, photos, decisions): the same bytes are stored once,
    never changed, and anyone holding a copy can check it against the hash."""

    sha256 = models.CharField(_("SHA-256"), max_length=64, primary_key=True)
    name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=100)
    size = models.PositiveBigIntegerField(_("大小（字节）"))
    created_at = models.DateTimeField(_("存入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("档案文件")
        verbose_name_plural = _("档案文件")

    def __str__(self) -> str:
        return f"{self.name} ({self.sha256[:12]})"


class FileAccess(models.Model):
    """Someone viewed or downloaded a stored file: who, when, which, from where and through
    which page. Append-only like the event log, so a leak can be traced to its reader."""

    class Way(models.TextChoices):
        VIEW = "view", _("查看")
        DOWNLOAD = "download", _("下载")
        BATCH = "batch", _("批量下载")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("查阅人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    # The resident reading their own lease has no staff account: the applicant id says who.
    applicant_id = models.BigIntegerField(_("申请人"), null=True, blank=True)
    document = models.ForeignKey(
        Document,
        verbose_name=_("文件"),
        on_delete=models.PROTECT,
        related_name="accesses",
        db_constraint=False,
    )
    way = models.CharField(_("方式"), max_length=10, choices=Way.choices)
    path = models.CharField(_("页面"), max_length=300)
    ip = models.GenericIPAddressField(_("IP"), null=True, blank=True)

    class Meta:
        verbose_name = _("文件查阅记录")
        verbose_name_plural = _("文件查阅记录")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["document", "at"], name="file_access_document_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_way_display()} {self.document_id[:12]}"


class EventSeal(models.Model):
    """One link of the archive's hash chain (archive.chain), written after its event committed.

    Sealing after commit keeps writers independent; `position` is gap-free, so a removed or
    added seal breaks the chain as surely as an edited event does. Append-only like the log.
    """

    position = models.PositiveBigIntegerField(_("序号"), primary_key=True)
    event_id = models.BigIntegerField(_("事件"), unique=True)
    previous = models.CharField(_("前一摘要"), max_length=64)
    digest = models.CharField(_("摘要"), max_length=64)
    sealed_at = models.DateTimeField(_("封存时间"))

    class Meta:
        verbose_name = _("档案存证")
        verbose_name_plural = _("档案存证")
        ordering = ["position"]

    def __str__(self) -> str:
        return f"#{self.position} {self.digest[:12]}"
