"""身份认领: residents blocked by their own ID number ask the county to verify them; the county
sees both cases side by side and decides with a written finding."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.services import record_access
from backoffice.views import staff_required
from geo.jurisdiction import application_scope, profile_of
from housing import identity
from housing.errors import NotAllowed
from housing.models import IdentityClaim

DECIDING_ROLES = ("city", "district")


class ClaimDecisionForm(forms.Form):
    accept = forms.TypedChoiceField(
        label=_("核实结论"),
        choices=[("yes", _("认领成立")), ("no", _("认领不成立"))],
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
    )
    opinion = forms.CharField(label=_("核实情况"), widget=forms.Textarea(attrs={"rows": 3}))


def _may_decide(user) -> bool:
    profile = profile_of(user)
    return user.is_superuser or (profile is not None and profile.role in DECIDING_ROLES)


def _claims(user):
    """Claims about cases in the user's area; only county and city departments verify people
    (for anyone else a claim does not exist: 404, as outside a jurisdiction)."""
    if not _may_decide(user):
        return IdentityClaim.objects.none()
    return IdentityClaim.objects.filter(application_scope(user, "application__")).select_related(
        "application__county", "other__county", "claimant"
    )


def pending_count(user) -> int | None:
    """Claims waiting in the user's area, for the review queue (None: not the user's work)."""
    if not _may_decide(user):
        return None
    return IdentityClaim.objects.filter(
        application_scope(user, "application__"), status=IdentityClaim.Status.PENDING
    ).count()


@staff_required
def claim_list(request: HttpRequest) -> HttpResponse:
    if not _may_decide(request.user):
        raise PermissionDenied(_("身份认领由县（区）住房保障部门核实。"))
    show = request.GET.get("show")
    claims = _claims(request.user)
    if show != "all":
        claims = claims.filter(status=IdentityClaim.Status.PENDING)
    return render(request, "staff/review/claims.html", {"claims": claims[:200], "show": show})


@staff_required
def claim_detail(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = get_object_or_404(_claims(request.user), pk=claim_id)
    record_access(request, "identity_claim", claim.pk)
    return render(
        request,
        "staff/review/claim_detail.html",
        {"claim": claim, "form": ClaimDecisionForm()},
    )


@staff_required
@require_POST
def claim_decide(request: HttpRequest, claim_id: int) -> HttpResponse:
    claim = get_object_or_404(_claims(request.user), pk=claim_id)
    form = ClaimDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择核实结论并写明核实情况。"))
        return render(
            request, "staff/review/claim_detail.html", {"claim": claim, "form": form}, status=400
        )
    try:
        identity.decide_claim(claim.pk, actor=request.user, **form.cleaned_data)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("核实结论已记录，并已短信通知认领人。"))
    return redirect("review-claim", claim_id=claim.pk)
