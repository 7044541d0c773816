"""Resident pages: sign in with a code, apply (zero proof), follow the case; public status
lookup and self-check; the development SMS inbox."""

import json
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive import crypto
from archive.client_ip import client_ip
from archive.ratelimit import Rate, hit
from exchange.sources import SourceUnavailable
from housing import identity, services
from housing.forms import ApplicationForm, CodeForm, MemberFormSet, PhoneForm, SelfCheckForm
from housing.models import Applicant, Application, EligibilityRule, SmsMessage
from housing.rules import apply_rules

SESSION_KEY = "applicant_id"
LOOKUPS = Rate("status-lookup-ip", 10, 3600)


def applicant_required(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        applicant = Applicant.objects.filter(pk=request.session.get(SESSION_KEY)).first()
        if applicant is None:
            return redirect("apply-login")
        request.applicant = applicant
        return view(request, *args, **kwargs)

    return wrapper


def login(request: HttpRequest) -> HttpResponse:
    """Step 1: a phone number; step 2: the code sent to it."""
    phone_form = PhoneForm(request.POST or None)
    code_form = CodeForm(initial={"phone": request.POST.get("phone", "")})
    if request.method == "POST" and phone_form.is_valid():
        try:
            services.send_code(phone_form.cleaned_data["phone"], ip=client_ip(request))
        except services.NotAllowed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("验证码已发送，请查看短信。"))
        return render(request, "housing/login.html", {"code_form": code_form, "sent": True})
    return render(request, "housing/login.html", {"phone_form": phone_form})


@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            applicant = services.verify_code(form.cleaned_data["phone"], form.cleaned_data["code"])
        except services.NotAllowed as exc:
            messages.error(request, str(exc))
        else:
            request.session.flush()  # nothing of an earlier visitor on a shared computer
            request.session[SESSION_KEY] = applicant.pk
            return redirect("my-cases")
    return render(request, "housing/login.html", {"code_form": form, "sent": True})


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    request.session.flush()
    return redirect("home")


def _editable(applicant: Applicant) -> Application | None:
    return (
        applicant.applications.filter(stage="draft").first()
        or applicant.applications.filter(returned=True).first()
    )


@applicant_required
def apply(request: HttpRequest) -> HttpResponse:
    """One phone-first page: identify, let the departments fill in the rest, check, submit."""
    applicant = request.applicant
    open_case = applicant.applications.exclude(stage__in=["draft", "rejected"]).filter(
        returned=False
    )
    if open_case.exists():
        messages.info(request, _("您已有正在办理的申请。"))
        return redirect("my-cases")
    application = _editable(applicant) or Application(applicant=applicant, phone=applicant.phone)
    initial_members = (
        [
            {"name": m.name, "relation": m.relation, "id_number": m.id_number}
            for m in application.members.all()
        ]
        if application.pk
        else []
    )
    form = ApplicationForm(request.POST or None, instance=application)
    # The saved members pre-fill the page; a posted form stands on its own: compared with that
    # initial, unchanged rows would count as empty and a resubmission would lose its household.
    members = (
        MemberFormSet(request.POST, prefix="m")
        if request.method == "POST"
        else MemberFormSet(initial=initial_members, prefix="m")
    )
    action = request.POST.get("action")
    blocked = None
    if request.method == "POST" and action == "prefill":
        form, members = _prefill(request, application)
    elif request.method == "POST" and form.is_valid() and members.is_valid():
        rows = [m.cleaned_data for m in members if m.cleaned_data.get("name")]
        draft = form.save(commit=False)
        prefilled = _prefilled(request)
        if prefilled.get("id_number") == draft.id_number:
            draft.prefilled = prefilled
        try:
            if action == "claim":
                return _claim(request, draft, rows)
            services.save_application(draft, rows, submit=action == "submit")
        except identity.IdentityBlocked as exc:
            # Kept as a draft, so the claim has the case it is about.
            services.save_application(draft, rows, submit=False)
            form.add_error(None, str(exc))
            blocked = exc
        except services.NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            request.session.pop("prefill", None)
            if action == "submit":
                messages.success(request, _("申请已提交，可随时在“我的申请”查看进度。"))
                return redirect("my-cases")
            messages.success(request, _("草稿已保存。"))
            return redirect("apply")
    return render(
        request,
        "housing/apply.html",
        {"form": form, "members": members, "application": application, "blocked": blocked},
    )


def _claim(request: HttpRequest, draft: Application, rows: list[dict]) -> HttpResponse:
    """本人认领: only when the submission really is blocked by the ID's owner problem; the
    check is repeated here, so a claim cannot be filed for an ID that submits normally."""
    services.save_application(draft, rows, submit=False)
    try:
        services.save_application(draft, rows, submit=True)
    except identity.IdentityBlocked as blocked:
        identity.file_claim(draft, request.applicant, blocked, request.POST.get("statement", ""))
        messages.success(
            request,
            _("本人认领已提交。县（区）住房保障部门将联系您核实身份，结果以短信通知。"),
        )
        return redirect("my-cases")
    messages.success(request, _("申请已提交，可随时在“我的申请”查看进度。"))
    return redirect("my-cases")


def _prefilled(request: HttpRequest) -> dict:
    token = request.session.get("prefill")
    return json.loads(crypto.decrypt(token)) if isinstance(token, str) else {}


def _prefill(request, application):
    """Ask 公安 and 不动产 for the household; the form comes back filled in, not yet saved."""
    form = ApplicationForm(initial=request.POST.dict(), instance=application)
    name, number = request.POST.get("name", ""), request.POST.get("id_number", "").strip().upper()
    try:
        data = services.prefill(number, name, applicant=request.applicant)
    except (services.NotAllowed, SourceUnavailable) as exc:
        messages.error(request, _("未能自动填写：%(e)s 您也可以手动填写。") % {"e": exc})
        return form, MemberFormSet(prefix="m")
    # Sessions are stored in the database: the household goes in encrypted like every copy.
    request.session["prefill"] = crypto.encrypt(json.dumps(data | {"id_number": number}))
    rows = [
        {"name": m["name"], "relation": m["relation"], "id_number": m.get("id_number", "")}
        for m in data["members"]
    ]
    owned = len(data["properties"])
    messages.success(
        request,
        _("已从公安户籍读取家庭成员 %(n)s 人；不动产登记：%(p)s。")
        % {"n": len(rows), "p": _("无自有住房") if not owned else _("有 %(k)s 处") % {"k": owned}},
    )
    return form, MemberFormSet(initial=rows, prefix="m")


def applications_of(applicant: Applicant):
    """The applicant's cases with their steps, for /my/ (composed at the portal level)."""
    return applicant.applications.prefetch_related("steps").select_related("county")


def lookup_application(request: HttpRequest) -> tuple[Application | None, str | None, str]:
    """Public: application number + the last six ID digits; a wrong pair tells nothing."""
    application, error = None, None
    number = request.GET.get("number", "").strip().upper()
    tail = request.GET.get("id6", "").strip().upper()
    if number or tail:
        if not hit(LOOKUPS, client_ip(request)):
            error = _("查询过于频繁，请一小时后再试。")
        else:
            found = Application.objects.filter(number=number).exclude(stage="draft").first()
            if found and len(tail) == 6 and found.id_number.endswith(tail):
                application = found
            else:
                error = _("没有查到与申请编号和身份证号后六位相符的申请。")
    return application, error, number


def self_check(request: HttpRequest) -> HttpResponse:
    """The county's rules applied to what a visitor types; nothing is stored."""
    form = SelfCheckForm(request.GET or None)
    findings = None
    if form.is_bound and form.is_valid():
        d = form.cleaned_data
        members = Decimal(d["members"])
        facts = {
            "income_per_head": (d["monthly_income"] / members).quantize(Decimal("0.01")),
            "area_per_head": (d["property_area"] / members).quantize(Decimal("0.01")),
            "property_count": Decimal(d["property_count"]),
            "vehicle_value": d["vehicle_value"],
            "business_count": Decimal(d["business_count"]),
            "residence_years": Decimal(d["residence_years"]),
            "insured_years": d["insured_years"],
        }
        findings = apply_rules(
            list(EligibilityRule.objects.filter(county=d["county"])),
            facts,
            {k: _("您填写的信息") for k in ("tax", "property", "police", "market", "social")},
        )
    return render(
        request,
        "housing/self_check.html",
        {
            "form": form,
            "findings": findings,
            "eligible": findings and all(f.passed for f in findings),
        },
    )


def sms_inbox(request: HttpRequest) -> HttpResponse:
    """Development only: the messages the default SMS backend 'sent'."""
    if not settings.DEBUG or settings.ANJU_SMS_BACKEND != "housing.sms.DatabaseInbox":
        raise Http404
    return render(
        request, "housing/sms_inbox.html", {"messages_sent": SmsMessage.objects.all()[:50]}
    )
