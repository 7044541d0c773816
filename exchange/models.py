"""Every answer a department source gave, kept as evidence for the decision it supported."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from archive.fields import EncryptedJSONField


class Evidence(models.Model):
    subject_type = models.CharField(_("对象类型"), max_length=30)
    subject_id = models.BigIntegerField(_("对象"))
    department = models.CharField(_("部门"), max_length=20)
    source = models.CharField(_("数据来源"), max_length=200)
    fetched_at = models.DateTimeField(_("查询时间"))
    payload = EncryptedJSONField(_("返回数据"))
    payload_hash = models.CharField(_("数据哈希"), max_length=64)

    class Meta:
        verbose_name = _("核查证据")
        verbose_name_plural = _("核查证据")
        ordering = ["-fetched_at"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="evidence_subject_idx")]

    def __str__(self) -> str:
        return f"{self.department} {self.fetched_at:%Y-%m-%d %H:%M}"
