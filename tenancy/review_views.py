"""Resident pages of 年审 and 续租, phone first: the form comes pre-filled from what the
household registered and, on request, from 公安/不动产 (housing.services.prefill, as for the
application); submitting asks every department again (tenancy.services)."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from exchange.sources import SourceUnavailable
from housing import identity
from housing.errors import NotAllowed
from housing.forms import MemberFormSet
from housing.models import Household
from housing.views import applicant_required
from tenancy.models import AnnualReview, Contract, Renewal
from tenancy.services import annual_reviews, contracts, renewals

HOUSING = [
    ("none", _("除本公租房外无其他住房")),
    ("owns", _("家庭成员名下有住房")),
    ("other", _("其他情况（请在下方说明）")),
]


class ReviewForm(forms.Form):
    monthly_income = forms.DecimalField(
        label=_("家庭月收入（元）"),
        min_value=0,
        max_digits=9,
        decimal_places=2,
        error_messages={"required": _("请填写家庭月收入（元），没有收入请填 0。")},
        widget=forms.NumberInput(attrs={"inputmode": "decimal"}),
    )
    other_housing = forms.ChoiceField(label=_("住房情况"), choices=HOUSING)
    housing_note = forms.CharField(label=_("住房情况说明"), max_length=200, required=False)
    changes = forms.CharField(
        label=_("过去一年家庭情况变化（成员、工作、车辆等）"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    truthful = forms.BooleanField(
        label=_("我承诺以上信息真实，同意有关部门核查家庭信息"),
        error_messages={"required": _("提交前请勾选承诺并同意核查。")},
    )

    def answers(self, members) -> dict:
        data = self.cleaned_data
        return {
            "members": [m.cleaned_data for m in members if m.cleaned_data.get("name")],
            "monthly_income": str(data["monthly_income"]),
            "other_housing": data["other_housing"],
            "housing_note": data["housing_note"],
            "changes": data["changes"],
        }


class RenewalForm(ReviewForm):
    months = forms.TypedChoiceField(label=_("续租期限"), coerce=int)

    def __init__(self, *args, maximum: int = 36, **kwargs):
        super().__init__(*args, **kwargs)
        terms = [m for m in (12, 24, 36, 48, 60) if m <= maximum] or [maximum]
        self.fields["months"].choices = [(m, _("%(n)s 个月") % {"n": m}) for m in terms]
        self.fields["months"].initial = terms[-1]
        self.order_fields(["months"])


def _registered_members(household: Household) -> list[dict]:
    return [
        {
            "name": m.name,
            "relation": m.relation_text or m.get_relation_display(),
            "id_number": m.id_number,
        }
        for m in household.members.all()
    ]


def _members(request: HttpRequest, household: Household) -> MemberFormSet:
    action = request.POST.get("action")
    if request.method == "POST" and action != "prefill":
        return MemberFormSet(request.POST, prefix="m")
    rows = _registered_members(household)
    if action == "prefill":
        rows = _prefill(request, household) or rows
    return MemberFormSet(initial=rows, prefix="m")


def _prefill(request: HttpRequest, household: Household) -> list[dict] | None:
    """零证明 again: the household as 公安 registers it (rate-limited, recorded)."""
    from housing import services

    try:
        data = services.prefill(
            household.head_id_number, household.head_name, applicant=request.applicant
        )
    except (NotAllowed, SourceUnavailable, identity.IdentityProblem) as exc:
        messages.error(request, _("未能读取部门数据：%(e)s 您也可以手动填写。") % {"e": exc})
        return None
    owned = len(data["properties"])
    messages.success(
        request,
        _("已从公安户籍读取 %(n)s 名家庭成员；不动产登记显示名下住房 %(p)s 套。请核对后提交。")
        % {"n": len(data["members"]), "p": owned},
    )
    return [
        {"name": m["name"], "relation": m["relation"], "id_number": m.get("id_number", "")}
        for m in data["members"]
    ]


def _initial(household: Household, previous: dict | None) -> dict:
    previous = previous or {}
    return {
        "monthly_income": previous.get("monthly_income")
        or (household.application.monthly_income if household.application_id else None),
        "other_housing": previous.get("other_housing", "none"),
    }


# --- 年审 -------------------------------------------------------------------------------------


@applicant_required
def my_annual_review(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(
        AnnualReview.objects.select_related(
            "contract__unit__building__estate", "household__application"
        ),
        pk=review_id,
        household__applicant=request.applicant,
    )
    household = review.household
    answerable = review.status in (AnnualReview.Status.OPEN, AnnualReview.Status.MISSED)
    form = members = None
    status = 200
    if answerable:
        posted = request.method == "POST" and request.POST.get("action") == "submit"
        form = ReviewForm(
            request.POST if posted else None, initial=_initial(household, review.answers)
        )
        members = _members(request, household)
        if posted:
            if all([form.is_valid(), members.is_valid()]):
                try:
                    annual_reviews.submit(
                        review.pk, applicant=request.applicant, answers=form.answers(members)
                    )
                except NotAllowed as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, _("年审已提交，县区住房保障部门审核后将通知您。"))
                    return redirect("my-annual-review", review_id=review.pk)
            status = 400
    return render(
        request,
        "tenancy/annual_review.html",
        {
            "review": review,
            "form": form,
            "members": members,
            "address": contracts.unit_address(review.contract.unit),
        },
        status=status,
    )


@applicant_required
def my_contract_review(request: HttpRequest, contract_id: int) -> HttpResponse:
    """The lease's latest 年审, or a page saying when the next one opens."""
    contract = _my_contract(request, contract_id)
    review = contract.reviews.order_by("-year").first()
    if review is not None:
        return redirect("my-annual-review", review_id=review.pk)
    return render(
        request,
        "tenancy/annual_review_none.html",
        {"contract": contract, "next": contracts.add_months(contract.start_date, 12)},
    )


# --- 续租 -------------------------------------------------------------------------------------


def _my_contract(request: HttpRequest, contract_id: int) -> Contract:
    return get_object_or_404(
        Contract.objects.select_related(
            "unit__building__estate", "household__application", "household__county"
        ),
        pk=contract_id,
        household__applicant=request.applicant,
    )


@applicant_required
def my_renewal(request: HttpRequest, contract_id: int) -> HttpResponse:
    """The lease's renewal: the request and its state, or the form when one may be made."""
    contract = _my_contract(request, contract_id)
    household = contract.household
    latest = contract.renewals.select_related("new_contract").order_by("-pk").first()
    why_not = renewals.may_apply(contract)
    form = members = None
    status = 200
    if why_not is None:
        maximum = contracts.policy_for(household.county).max_term_months
        posted = request.method == "POST" and request.POST.get("action") == "apply"
        form = RenewalForm(
            request.POST if posted else None,
            maximum=maximum,
            initial=_initial(household, latest.answers if latest else None),
        )
        members = _members(request, household)
        if posted:
            if all([form.is_valid(), members.is_valid()]):
                try:
                    renewals.apply(
                        contract.pk,
                        applicant=request.applicant,
                        months=form.cleaned_data["months"],
                        answers=form.answers(members),
                    )
                except NotAllowed as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(
                        request, _("续租申请已提交，县区住房保障部门审核后将短信通知您。")
                    )
                    return redirect("my-renewal", contract_id=contract.pk)
            status = 400
    return render(
        request,
        "tenancy/renewal.html",
        {
            "contract": contract,
            "renewal": latest,
            "why_not": why_not,
            "opens": renewals.window_opens(contract),
            "form": form,
            "members": members,
            "today": timezone.localdate(),
            "address": contracts.unit_address(contract.unit),
        },
        status=status,
    )


@applicant_required
@require_POST
def my_renewal_withdraw(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = _my_contract(request, contract_id)
    renewal = get_object_or_404(
        Renewal.objects.filter(contract=contract, status=Renewal.Status.PENDING)
    )
    try:
        renewals.withdraw(renewal.pk, applicant=request.applicant)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("续租申请已撤回。"))
    return redirect("my-renewal", contract_id=contract.pk)
