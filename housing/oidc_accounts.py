"""Which applicant account a person the identity provider vouched for signs in to (real-name).

The ID number decides, through its blind index: an account this person already reached through
a provider (any provider), else the account of their approved household (staff checked who that
is), else the account of the phone the provider registered, else a new one. An account whose
cases carry someone else's ID number is never handed over (a family sharing one phone)."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.services import record_event
from exchange.models import OidcIdentity
from housing.identity import masked
from housing.models import Applicant, Household
from housing.oidc import SignInRefused, Vouched
from housing.services import MOBILE


def _by_phone(vouched: Vouched) -> Applicant:
    if not MOBILE.match(vouched.phone):
        raise SignInRefused(
            _("统一身份认证平台未提供您的手机号，暂不能用此方式登录，请使用短信验证码登录。")
        )
    applicant, _created = Applicant.objects.get_or_create(phone=vouched.phone)
    others = applicant.applications.exclude(id_number=vouched.id_number).exists() or (
        OidcIdentity.objects.filter(applicant=applicant)
        .filter(~Q(id_number=vouched.id_number))
        .exists()
    )
    if others:
        raise SignInRefused(
            _(
                "您在统一身份认证平台登记的手机号已用于他人的申请账户，"
                "请使用本人手机号以短信验证码登录，或到社区服务窗口办理。"
            )
        )
    return applicant


def _account_for(vouched: Vouched) -> Applicant:
    earlier = (
        OidcIdentity.objects.filter(id_number=vouched.id_number, applicant__isnull=False)
        .select_related("applicant")
        .order_by("first_signed_in_at", "pk")
        .first()
    )
    if earlier is not None:
        return earlier.applicant
    household = (
        Household.objects.filter(head_id_number=vouched.id_number, applicant__isnull=False)
        .select_related("applicant")
        .order_by("-approved_at")
        .first()
    )
    if household is not None:
        return household.applicant
    return _by_phone(vouched)


def sign_in(vouched: Vouched) -> tuple[Applicant, OidcIdentity]:
    """The applicant account and the provider identity bound to it; the first binding is an
    archive event. The provider's record of a person's ID number cannot change under us."""
    now = timezone.now()
    with transaction.atomic():
        identity = (
            OidcIdentity.objects.select_for_update()
            .filter(issuer=vouched.issuer, subject=vouched.subject)
            .first()
        )
        if identity is not None and identity.id_number != vouched.id_number:
            raise SignInRefused(
                _("统一身份认证平台返回的身份证号与此前不一致，未登录。请联系住房保障部门。")
            )
        bound = identity is not None and identity.applicant_id is not None
        applicant = identity.applicant if bound else _account_for(vouched)
        if identity is None:
            identity = OidcIdentity(
                issuer=vouched.issuer, subject=vouched.subject, id_number=vouched.id_number
            )
        identity.name = vouched.name
        identity.applicant = applicant
        identity.last_signed_in_at = now
        identity.save()
        if not bound:
            record_event(
                "applicant.identity_bound",
                f"统一身份认证实名绑定申请人账户（身份证 {masked(vouched.id_number)}）",
                actor=None,
                after={"applicant": applicant.pk, "verified_by": identity.verified_by},
            )
    return applicant, identity
