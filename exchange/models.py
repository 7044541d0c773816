"""Every answer a department source gave, kept as evidence for the decision it supported; and
the identities an OpenID provider vouched for."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from archive.fields import BlindIndexField, EncryptedCharField, EncryptedJSONField


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


class OidcIdentity(models.Model):
    """A person as an OpenID provider vouched for them: (issuer, subject) is the provider's
    account; the verified name and ID number bind it to one applicant account (real-name), and
    an administrator may link it to a staff account. Kept here, not in housing, so the sign-in
    record sits beside the other outside sources; housing reaches it, never the reverse."""

    issuer = models.CharField(_("身份提供方"), max_length=200)
    subject = models.CharField(_("提供方账户标识"), max_length=255)
    applicant = models.ForeignKey(
        "housing.Applicant",
        verbose_name=_("申请人账户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="oidc_identities",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("关联的工作人员账户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="oidc_identity",
        help_text=_("仅由管理员关联；关联后该工作人员可用统一身份认证登录。"),
    )
    name = EncryptedCharField(_("核验姓名"), max_length=50)
    id_number = EncryptedCharField(_("核验身份证号"), max_length=18, index="id_index")
    id_index = BlindIndexField(source="id_number")
    first_signed_in_at = models.DateTimeField(_("首次登录"), auto_now_add=True)
    last_signed_in_at = models.DateTimeField(_("最近登录"))

    class Meta:
        verbose_name = _("统一身份认证账户")
        verbose_name_plural = _("统一身份认证账户")
        constraints = [
            models.UniqueConstraint(fields=["issuer", "subject"], name="oidc_identity_per_subject")
        ]
        indexes = [models.Index(fields=["id_index"], name="oidc_identity_person_idx")]

    def __str__(self) -> str:
        return f"{self.issuer} {self.id_number[:6]}********"

    @property
    def verified_by(self) -> str:
        """How the account's real name was established, as the application records show it."""
        return f"oidc:{self.issuer}"
