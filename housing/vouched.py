"""What the identity provider vouched for stays as it said: an account bound to a verified
identity applies under that name and ID number, whatever a browser posts."""

from functools import wraps

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from exchange.models import OidcIdentity
from housing.models import Applicant

LOCKED = ("name", "id_number")


def identity_of(applicant: Applicant) -> OidcIdentity | None:
    """The account's verified identity, if a provider ever vouched for its holder."""
    return OidcIdentity.objects.filter(applicant=applicant).order_by("-last_signed_in_at").first()


def keep_vouched(view):
    """After `applicant_required`: a posted name or ID number is replaced by the verified one
    before the view sees it, so neither the form, the prefill nor the save can use another."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        identity = identity_of(request.applicant)
        request.vouched = identity
        if identity is not None and request.method == "POST":
            data = request.POST.copy()
            data["name"], data["id_number"] = identity.name, identity.id_number
            request.POST = data
        return view(request, *args, **kwargs)

    return wrapper


def lock(form, identity: OidcIdentity | None) -> None:
    """Show the verified name and ID number read-only, already filled in."""
    if identity is None:
        return
    for name, value in zip(LOCKED, (identity.name, identity.id_number), strict=True):
        field = form.fields[name]
        field.widget.attrs["readonly"] = True
        field.help_text = _("已通过政务服务网统一身份认证核验，不能修改")
        if not form.is_bound:
            form.initial[name] = value
