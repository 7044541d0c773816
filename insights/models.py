"""批量下载 of archive files: one row per requested ZIP, its progress and where it lies on disk.

The ZIP is written by a background job under MEDIA_ROOT/batches/ and served only to the staff
member who asked for it (never from MEDIA_URL); it expires and is then deleted.
"""

from django.conf import settings
from django.db import models
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
