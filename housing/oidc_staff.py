"""Staff sign-in through the same identity provider: the verified person opens only the staff
account an administrator linked to their identity (OidcIdentity.user, in the admin site);
roles and jurisdiction stay in Anju, and django-axes' lockout holds at this door too. It lives
beside the resident sign-in because the provider knows one callback; the back office checks
the role when a page opens."""

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import login
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from exchange.models import OidcIdentity
from housing.oidc import SignInRefused, Vouched

BACKEND = "django.contrib.auth.backends.ModelBackend"


def landing(request: HttpRequest) -> str:
    """A back-office page asked for before signing in, else the staff home."""
    target = (request.GET.get("next") or "").strip()
    if (
        target.startswith("/staff/")
        and not target.startswith("/staff/login/")
        and len(target) <= 2000
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
    ):
        return target
    return reverse("staff-home")


def linked_user(vouched: Vouched) -> AbstractBaseUser:
    """The staff account linked to this identity. An identity seen for the first time is
    recorded unlinked, so the administrator can find it and link it."""
    with transaction.atomic():
        identity, _created = OidcIdentity.objects.select_for_update().get_or_create(
            issuer=vouched.issuer,
            subject=vouched.subject,
            defaults={
                "name": vouched.name,
                "id_number": vouched.id_number,
                "last_signed_in_at": timezone.now(),
            },
        )
        if identity.id_number != vouched.id_number:
            raise SignInRefused(
                _("统一身份认证平台返回的身份证号与此前不一致，未登录。请联系系统管理员。")
            )
        identity.name, identity.last_signed_in_at = vouched.name, timezone.now()
        identity.save(update_fields=["name", "last_signed_in_at"])
        user = identity.user
    if user is None or not user.is_active:
        raise SignInRefused(
            _("您的统一身份认证账户尚未关联工作人员账户，请联系系统管理员关联后再登录。")
        )
    return user


def sign_in(request: HttpRequest, vouched: Vouched) -> None:
    """Log the linked staff member in, unless axes has locked their username here."""
    user = linked_user(vouched)
    if AxesProxyHandler.is_locked(request, {"username": user.get_username()}):
        raise SignInRefused(_("登录失败次数过多，账户已暂时锁定，请稍后再试。"))
    request.session.flush()  # nothing of an earlier visitor on a shared computer
    login(request, user, backend=BACKEND)
