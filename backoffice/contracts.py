"""合同签订: leases from accepted offers, the tenant's confirmation, approval with the
organisation's signature, move-in; and each county's lease template, versioned."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from allocation.models import Offer
from archive import documents
from archive.models import Event
from archive.services import record_access
from backoffice.views import staff_required
from geo.jurisdiction import estate_scope, profile_of, region_scope
from geo.models import Region
from housing.errors import NotAllowed
from tenancy import contract_pdf as lease
from tenancy.models import Contract, LeaseTemplate
from tenancy.services import contracts

ACTING_ROLES = ("city", "district", "operator")
TABS = {
    "offers": _("待生成合同"),
    "awaiting_tenant": _("待承租人确认"),
    "awaiting_approval": _("待审核签章"),
    "signed": _("待入住"),
    "active": _("履行中"),
    "expiring": _("3 个月内到期"),
}


def may_act(user) -> bool:
    profile = profile_of(user)
    return user.is_superuser or (profile is not None and profile.role in ACTING_ROLES)


def visible_contracts(user):
    return Contract.objects.filter(estate_scope(user, "unit__building__estate__"))


def visible_offers(user):
    return Offer.objects.filter(
        estate_scope(user, "unit__building__estate__"),
        status=Offer.Status.ACCEPTED,
        contract__isnull=True,
    )


@staff_required
def contract_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "awaiting_approval"
    today = timezone.localdate()
    if tab == "offers":
        rows = visible_offers(request.user).select_related(
            "household", "unit__building__estate", "round"
        )
    else:
        rows = visible_contracts(request.user).select_related("household", "unit__building__estate")
        if tab == "expiring":
            rows = rows.filter(
                status=Contract.Status.ACTIVE, end_date__lte=today + timedelta(days=92)
            ).order_by("end_date")
        else:
            rows = rows.filter(status=tab)
    counts = {
        "offers": visible_offers(request.user).count(),
        **{
            row["status"]: row["n"]
            for row in visible_contracts(request.user)
            .values("status")
            .order_by()
            .annotate(n=Count("pk"))
        },
    }
    return render(
        request,
        "staff/contracts/list.html",
        {
            "tab": tab,
            "tabs": [(k, v, counts.get(k)) for k, v in TABS.items()],
            "page": Paginator(rows, 30).get_page(request.GET.get("page")),
        },
    )


class DraftForm(forms.Form):
    start = forms.DateField(
        label=_("租期开始"),
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )
    months = forms.IntegerField(label=_("租期（月）"), min_value=1, max_value=60, initial=36)
    clauses = forms.CharField(
        label=_("补充条款"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )


@staff_required
def contract_new(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = get_object_or_404(
        visible_offers(request.user).select_related("household", "unit__building__estate"),
        pk=offer_id,
    )
    if not may_act(request.user):
        raise PermissionDenied(_("合同由运营单位或县（区）住房保障部门生成。"))
    policy = contracts.policy_for(offer.household.county)
    form = DraftForm(
        request.POST or None,
        initial={"start": timezone.localdate(), "months": policy.max_term_months},
    )
    if request.method == "POST" and form.is_valid():
        try:
            contract = contracts.draft(offer.pk, actor=request.user, **form.cleaned_data)
        except NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("合同已生成，已短信通知承租人确认。"))
            return redirect("contract-detail", contract_id=contract.pk)
    return render(
        request,
        "staff/contracts/new.html",
        {
            "offer": offer,
            "form": form,
            "policy": policy,
            "address": contracts.unit_address(offer.unit),
        },
    )


class MoveInForm(forms.Form):
    day = forms.DateField(
        label=_("入住日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d"],
    )


@staff_required
def contract_detail(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = get_object_or_404(
        visible_contracts(request.user).select_related(
            "household", "unit__building__estate", "approved_by", "template"
        ),
        pk=contract_id,
    )
    record_access(request, "contract", contract.pk)
    return render(
        request,
        "staff/contracts/detail.html",
        {
            "contract": contract,
            "history": Event.objects.filter(
                household_id=contract.household_id,
                action__startswith="contract.",
                after__contract=contract.pk,
            )
            .select_related("actor")
            .order_by("at", "pk"),
            "cancellable": contract.status in contracts.CANCELLABLE,
            "may_act": may_act(request.user),
            "move_in": MoveInForm(initial={"day": contract.start_date}),
            "address": contracts.unit_address(contract.unit),
        },
    )


@staff_required
def contract_file(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = get_object_or_404(visible_contracts(request.user), pk=contract_id)
    document = contract.signed or contract.draft
    record_access(request, "contract_pdf", contract.pk)
    return documents.serve(request, document, filename=f"{contract.number}.pdf")


def _acting(request: HttpRequest, contract_id: int) -> Contract:
    contract = get_object_or_404(visible_contracts(request.user), pk=contract_id)
    if not may_act(request.user):
        raise PermissionDenied(_("合同由运营单位或县（区）住房保障部门审核。"))
    return contract


@staff_required
@require_POST
def contract_approve(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = _acting(request, contract_id)
    try:
        contracts.approve(contract.pk, actor=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("合同已签订并加盖电子签章，已短信通知承租人。"))
    return redirect("contract-detail", contract_id=contract.pk)


@staff_required
@require_POST
def contract_cancel(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = _acting(request, contract_id)
    try:
        contracts.cancel(contract.pk, reason=request.POST.get("reason", ""), actor=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("合同已作废，已通知承租人；可为该配租结果重新生成合同。"))
    return redirect("contract-detail", contract_id=contract.pk)


@staff_required
@require_POST
def contract_move_in(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = _acting(request, contract_id)
    form = MoveInForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写入住日期（年-月-日）。"))
    else:
        try:
            contracts.move_in(contract.pk, day=form.cleaned_data["day"], actor=request.user)
        except NotAllowed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已办理入住，房屋状态改为已入住。"))
    return redirect("contract-detail", contract_id=contract.pk)


# --- lease templates ---------------------------------------------------------------------------


def _counties(user):
    return Region.objects.filter(region_scope(user), level=Region.Level.DISTRICT)


class TemplateForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=100, initial="公共租赁住房租赁合同")
    body = forms.CharField(
        label=_("合同正文（HTML，可用占位符）"), widget=forms.Textarea(attrs={"rows": 24})
    )
    reason = forms.CharField(
        label=_("修改原因"),
        max_length=200,
        error_messages={"required": _("请填写修改原因（记入档案）。")},
    )
    # The version the editor opened: a save over someone else's newer version is refused.
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        sample = {key: "示例" for key in lease.PLACEHOLDERS}
        try:
            lease.fill(body, sample)
        except lease.ContractDataError as exc:
            raise forms.ValidationError(str(exc)) from exc
        return body


@staff_required
def templates(request: HttpRequest) -> HttpResponse:
    counties = list(_counties(request.user))
    latest = {
        t.county_id: t
        for t in LeaseTemplate.objects.filter(county__in=counties)
        .order_by("county_id", "-version")
        .distinct("county_id")
    }
    return render(
        request,
        "staff/contracts/templates.html",
        {"rows": [(c, latest.get(c.pk)) for c in counties]},
    )


@staff_required
def template_edit(request: HttpRequest, county_id: int) -> HttpResponse:
    """A new version from the current one; contracts already made keep theirs."""
    county = get_object_or_404(_counties(request.user), pk=county_id)
    profile = profile_of(request.user)
    if not (request.user.is_superuser or (profile and profile.role in ("city", "district"))):
        raise PermissionDenied(_("合同范本由县（区）住房保障部门维护。"))
    current = LeaseTemplate.objects.filter(county=county).order_by("-version").first()
    initial = {"base_version": current.version if current else 0}
    if current:
        initial.update(title=current.title, body=current.body)
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            template = contracts.save_template(county, **form.cleaned_data, actor=request.user)
        except NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("已保存为第 %(v)s 版，之后生成的合同使用新版本。") % {"v": template.version},
            )
            return redirect("contract-templates")
    return render(
        request,
        "staff/contracts/template_edit.html",
        {
            "county": county,
            "current": current,
            "form": form,
            "placeholders": lease.PLACEHOLDERS.items(),
        },
    )
