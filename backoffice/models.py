"""Staff and their jurisdiction: a node of the region tree, or an operator's estates."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from geo.models import Operator, Region


class StaffProfile(models.Model):
    class Role(models.TextChoices):
        CITY = "city", _("市住建局")
        DISTRICT = "district", _("县区住房保障部门")
        STREET = "street", _("街道/乡镇")
        COMMUNITY = "community", _("社区（网格员）")
        OPERATOR = "operator", _("运营单位")

    # The region level each administrative role belongs to.
    LEVEL_OF_ROLE = {
        Role.CITY: Region.Level.CITY,
        Role.DISTRICT: Region.Level.DISTRICT,
        Role.STREET: Region.Level.STREET,
        Role.COMMUNITY: Region.Level.COMMUNITY,
    }

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_profile"
    )
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices)
    region = models.ForeignKey(
        Region, verbose_name=_("所辖区域"), on_delete=models.PROTECT, null=True, blank=True
    )
    operator = models.ForeignKey(
        Operator, verbose_name=_("运营单位"), on_delete=models.PROTECT, null=True, blank=True
    )
    # 账号管理员: manages the accounts (and county rules) inside their own area, at or below
    # their own level (backoffice/system/scope.py).
    is_admin = models.BooleanField(_("账号管理员"), default=False)

    class Meta:
        verbose_name = _("工作人员")
        verbose_name_plural = _("工作人员")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(role="operator", operator__isnull=False, region__isnull=True)
                    | (~Q(role="operator") & Q(region__isnull=False, operator__isnull=True))
                ),
                name="staff_jurisdiction_matches_role",
            )
        ]

    def __str__(self) -> str:
        where = self.operator or self.region
        return f"{self.user} · {self.get_role_display()} · {where}"

    @property
    def can_edit_stock(self) -> bool:
        """Housing departments and operators keep the stock; streets and communities read it."""
        return self.role in {self.Role.CITY, self.Role.DISTRICT, self.Role.OPERATOR}

    @property
    def can_publish(self) -> bool:
        return self.role in {self.Role.CITY, self.Role.DISTRICT}
