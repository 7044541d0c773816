"""系统管理 · 区县政策: what each county decides, edited section by section with a reason,
and the history of every change (the archive's `policy.changed` events) per county.

A county outside the viewer's area does not exist for them (404); inside it, only account
administrators of the city or the county may open and change its rules (403 otherwise).
"""

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _

from archive.models import Event
from backoffice.models import StaffProfile
from backoffice.system import policy_lists, scope
from backoffice.system import policy_services as services
from backoffice.system.calendar_services import is_city_admin
from backoffice.system.policy_lists import ReasonForm
from backoffice.views import staff_required
from housing.models import DEFAULT_CHAIN, CountyPolicy, EligibilityRule

# (min, max) of each number a county may set: the national and database limits, and sense.
LIMITS = {
    "publicity_working_days": (7, 30),
    "step_days": (0, 60),
    "waiting_limit_months": (1, 120),
    "offer_working_days": (1, 30),
    "slot_minutes": (1, 240),
    "refusal_limit": (1, 10),
    "suspend_days": (0, 3650),
    "max_term_months": (1, 60),
    "deposit_months": (Decimal("0"), Decimal("6")),
    "due_day": (1, 28),
    "arrears_warning_months": (1, 24),
    "exit_notice_days": (0, 180),
    "transition_months": (0, 24),
    "market_rent_factor": (Decimal("1"), Decimal("5")),
    "answer_days": (1, 180),
    "renewal_notice_months": (1, 12),
    # Reminders: days after a bill's due date; days before an annual review's deadline.
    "tenancy:reminder_days": (1, 365),
    "reviews:reminder_days": (0, 180),
}
THRESHOLD_MAX = Decimal("9999999999")


def _bounded(label: str, limits: tuple, decimal: bool = False) -> forms.Field:
    """A number field whose errors name the field and its limits in Chinese."""
    low, high = limits
    messages_ = {
        "required": f"{label}：请填写。",
        "invalid": f"{label}：请填写数字。",
        "min_value": f"{label}：不得小于 {low}。",
        "max_value": f"{label}：不得大于 {high}。",
        "max_digits": f"{label}：数字过长。",
        "max_decimal_places": f"{label}：最多两位小数。",
        "max_whole_digits": f"{label}：数字过大。",
    }
    if decimal:
        return forms.DecimalField(
            label=label,
            min_value=low,
            max_value=high,
            max_digits=4,
            decimal_places=2,
            error_messages=messages_,
        )
    return forms.IntegerField(label=label, min_value=low, max_value=high, error_messages=messages_)


class ReviewSectionForm(ReasonForm):
    def __init__(self, *args, county, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        policy = CountyPolicy.objects.filter(county=county).first() or CountyPolicy(county=county)
        self.fields["publicity_working_days"] = _bounded(
            str(CountyPolicy._meta.get_field("publicity_working_days").verbose_name),
            LIMITS["publicity_working_days"],
        )
        for step in policy.review_chain:
            if step["step"] != "publicity":
                label = f"{step['label']}办理时限（工作日，0 为不设）"
                self.fields[f"days:{step['step']}"] = _bounded(label, LIMITS["step_days"])

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("section", "reason")}


class EligibilitySectionForm(ReasonForm):
    def __init__(self, *args, county, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for value, label in EligibilityRule.Criterion.choices:
            self.fields[f"{value}:operator"] = forms.ChoiceField(
                label=f"{label}：比较",
                choices=[("", _("不作要求")), *EligibilityRule.Operator.choices],
                required=False,
            )
            self.fields[f"{value}:threshold"] = forms.DecimalField(
                label=f"{label}：标准",
                required=False,
                min_value=0,
                max_value=THRESHOLD_MAX,
                decimal_places=2,
                error_messages={
                    "invalid": f"{label}：标准须为数字。",
                    "min_value": f"{label}：标准不得为负数。",
                    "max_value": f"{label}：标准过大。",
                    "max_decimal_places": f"{label}：标准最多两位小数。",
                },
            )
            self.fields[f"{value}:unit"] = forms.CharField(
                label=f"{label}：单位", required=False, max_length=10
            )
        self.criteria = EligibilityRule.Criterion.choices

    def clean(self) -> dict:
        data = super().clean()
        for value, label in EligibilityRule.Criterion.choices:
            if data.get(f"{value}:operator") and data.get(f"{value}:threshold") is None:
                self.add_error(f"{value}:threshold", f"{label}：选择了比较方式，须填写标准。")
        return data

    def values(self) -> dict:
        d = self.cleaned_data
        return {
            value: (d[f"{value}:operator"], d[f"{value}:threshold"], d[f"{value}:unit"].strip())
            for value in EligibilityRule.Criterion.values
            if d.get(f"{value}:operator")
        }


class ModelSectionForm(ReasonForm):
    """The plain fields of AllocationPolicy, TenancyPolicy or ReviewPolicy."""

    def __init__(self, *args, county, section: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        model = services.MODELS[section]
        for name in services.FIELDS[section]:
            field = model._meta.get_field(name)
            label = str(field.verbose_name)
            if name == "reminder_days":
                low, high = LIMITS[f"{section}:reminder_days"]
                self.fields[name] = policy_lists.DaysListField(
                    label=label, low=low, high=high, descending=section == "reviews"
                )
            elif field.choices:
                self.fields[name] = forms.ChoiceField(
                    label=label,
                    choices=field.choices,
                    error_messages={"invalid_choice": f"{label}：请从列表中选择。"},
                )
            else:
                self.fields[name] = _bounded(
                    label, LIMITS[name], decimal=field.get_internal_type() == "DecimalField"
                )

    def values(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("section", "reason")}


def _form(section: str, county, data=None, initial=None):
    kwargs = {"county": county, "data": data, "initial": (initial or {}) | {"section": section}}
    if section == "review":
        return ReviewSectionForm(**kwargs)
    if section == "eligibility":
        return EligibilitySectionForm(**kwargs)
    if section in policy_lists.FORMS:
        return policy_lists.FORMS[section](**kwargs)
    return ModelSectionForm(section=section, **kwargs)


def _eligibility_initial(county) -> dict:
    initial = {}
    for rule in EligibilityRule.objects.filter(county=county):
        initial[f"{rule.criterion}:operator"] = rule.operator
        initial[f"{rule.criterion}:threshold"] = rule.threshold
        initial[f"{rule.criterion}:unit"] = rule.unit
    return initial


def _initial(county, section: str) -> dict:
    if section == "eligibility":
        return _eligibility_initial(county)
    return services.current(county, section)


def _county(request: HttpRequest, county_id: int):
    """The county if it lies in the viewer's area (else 404), for an administrator (else 403)."""
    county = get_object_or_404(scope.counties_in_area(request.user), pk=county_id)
    if not scope.is_admin(request.user):
        raise PermissionDenied(_("只有账号管理员可以修改区县政策。"))
    return county


@staff_required
def policy_list(request: HttpRequest) -> HttpResponse:
    if not scope.is_admin(request.user):
        raise PermissionDenied(_("只有账号管理员可以修改区县政策。"))
    return render(
        request,
        "staff/system/policies.html",
        {
            "section": "policies",
            "is_city_admin": is_city_admin(request.user),
            "counties": list(scope.counties_in_area(request.user)),
        },
    )


@staff_required
def policy_edit(request: HttpRequest, county_id: int) -> HttpResponse:
    county = _county(request, county_id)
    posted = request.POST.get("section") if request.method == "POST" else None
    if posted is not None and posted not in services.SECTION_LABELS:
        raise Http404
    forms_ = {}
    for section in services.SECTION_LABELS:
        if section == posted:
            forms_[section] = _form(section, county, data=request.POST)
        else:
            forms_[section] = _form(section, county, initial=_initial(county, section))
    if posted:
        form = forms_[posted]
        if form.is_valid():
            try:
                changed = services.change_policy(
                    county,
                    posted,
                    form.values(),
                    reason=form.cleaned_data["reason"],
                    actor=request.user,
                )
            except services.NotAllowed as exc:
                form.add_error(None, str(exc))
            else:
                if changed:
                    messages.success(
                        request,
                        _("已保存 %(n)s 项修改，之后的办理按新规则执行。") % {"n": len(changed)},
                    )
                else:
                    messages.info(request, _("没有改动，未保存。"))
                return redirect("system-policy", county_id=county.pk)
    return render(
        request,
        "staff/system/policy.html",
        {
            "section": "policies",
            "is_city_admin": is_city_admin(request.user),
            "county": county,
            "sections": [
                (key, label, forms_[key]) for key, label in services.SECTION_LABELS.items()
            ],
            "chain": _chain(county),
        },
    )


def _chain(county) -> list[tuple[str, str]]:
    """The review chain's steps and who takes each, for reading (edited: only the days)."""
    policy = CountyPolicy.objects.filter(county=county).first() or CountyPolicy(county=county)
    roles = dict(StaffProfile.Role.choices)
    return [(step["label"], roles.get(step["role"], step["role"])) for step in policy.review_chain]


@staff_required
def policy_history(request: HttpRequest, county_id: int) -> HttpResponse:
    county = _county(request, county_id)
    events = (
        Event.objects.filter(action="policy.changed", after__county_id=county.pk)
        .select_related("actor")
        .order_by("-at", "-id")
    )
    page = Paginator(events, 30).get_page(request.GET.get("page"))
    rows = []
    for event in page.object_list:
        after = event.after or {}
        section = after.get("section", "")
        changes = [
            (name, (event.before or {}).get(name), value)
            for name, value in after.items()
            if name not in ("county_id", "section")
        ]
        rows.append(
            {
                "event": event,
                "section": services.SECTION_LABELS.get(section, section),
                "changes": [
                    (
                        label_of(section, n),
                        policy_lists.describe(n, old),
                        policy_lists.describe(n, new),
                    )
                    for n, old, new in changes
                ],
            }
        )
    return render(
        request,
        "staff/system/history.html",
        {
            "section": "policies",
            "is_city_admin": is_city_admin(request.user),
            "county": county,
            "page": page,
            "rows": rows,
        },
    )


STEP_LABELS = {step["step"]: step["label"] for step in DEFAULT_CHAIN}


def label_of(section: str, name: str) -> str:
    """A field's readable name for the history page (a code no longer known shows as is)."""
    if name.startswith("days:"):
        return f"{STEP_LABELS.get(name[5:], name[5:])}办理时限"
    if section == "eligibility":
        known = name in EligibilityRule.Criterion.values
        return str(EligibilityRule.Criterion(name).label) if known else name
    model = CountyPolicy if section == "review" else services.MODELS.get(section)
    try:
        return str(model._meta.get_field(name).verbose_name) if model else name
    except FieldDoesNotExist:
        return name
