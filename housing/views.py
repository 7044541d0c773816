"""Resident pages: sign in with a code, apply (zero proof), follow the case; public status
lookup and self-check; the development SMS inbox."""

import json
from decimal import Decimal
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive import crypto
from archive.client_ip import client_ip
from archive.ratelimit import Rate, hit
from exchange.idcard import validate_id_number
from exchange.sources import SourceUnavailable
from geo.models import Region
from housing import identity, inbox, licences, services, vouched
from housing.forms import ApplicationForm, CodeForm, MemberFormSet, PhoneForm, SelfCheckForm
from housing.models import Applicant, Application, EligibilityRule, SmsMessage
from housing.rules import apply_rules

SESSION_KEY = "applicant_id"
LOOKUPS = Rate("status-lookup-ip", 10, 3600)


def _signed_in(request: HttpRequest) -> Applicant | None:
    return Applicant.objects.filter(pk=request.session.get(SESSION_KEY)).first()


def applicant_required(view):
    """Signed-out visitors go to sign in, and come back to the page they asked for."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        applicant = _signed_in(request)
        if applicant is None:
            if request.method not in ("GET", "HEAD"):
                return redirect("apply-login")  # a form posted signed out cannot be replayed
            return redirect_to_login(request.get_full_path(), reverse("apply-login"))
        request.applicant = applicant
        return view(request, *args, **kwargs)

    return wrapper


def next_page(request: HttpRequest) -> str:
    """Where to land after signing in: a path on this site (never another host, and not the
    sign-in pages themselves), else /my/."""
    target = (request.POST.get("next") or request.GET.get("next") or "").strip()
    signing_in = {reverse(name) for name in ("apply-login", "apply-verify", "apply-logout")}
    if (
        target.startswith("/")
        and len(target) <= 2000
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
        and target.split("?", 1)[0] not in signing_in
    ):
        return target
    return reverse("my-cases")


def _login_page(request: HttpRequest, context: dict) -> HttpResponse:
    after = next_page(request)
    context["next"] = after if after != reverse("my-cases") else ""
    context["oidc"] = bool(settings.ANJU_OIDC_ISSUER)  # 统一身份认证 offered first
    return render(request, "housing/login.html", context)


def login(request: HttpRequest) -> HttpResponse:
    """Step 1: a phone number; step 2: the code sent to it. Both carry where to go next."""
    if request.method != "POST" and _signed_in(request) is not None:
        return redirect(next_page(request))
    phone_form = PhoneForm(request.POST or None)
    code_form = CodeForm(initial={"phone": request.POST.get("phone", "")})
    if request.method == "POST" and phone_form.is_valid():
        try:
            services.send_code(phone_form.cleaned_data["phone"], ip=client_ip(request))
        except services.NotAllowed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("验证码已发送，请查看短信。"))
        return _login_page(request, {"code_form": code_form, "sent": True})
    return _login_page(request, {"phone_form": phone_form})


@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            applicant = services.verify_code(form.cleaned_data["phone"], form.cleaned_data["code"])
        except services.NotAllowed as exc:
            messages.error(request, str(exc))
        else:
            after = next_page(request)
            request.session.flush()  # nothing of an earlier visitor on a shared computer
            request.session[SESSION_KEY] = applicant.pk
            return redirect(after)
    return _login_page(request, {"code_form": form, "sent": True})


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
@vouched.keep_vouched
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
    action = request.POST.get("action") or "save" if request.method == "POST" else None
    blocked = None
    if action == "prefill":
        form, members = _prefill(request, application)
    elif action == "places":
        # No JavaScript: the page comes back with the lists narrowed to the chosen county and
        # street, nothing saved and nothing marked wrong yet.
        form = ApplicationForm(initial=_posted(request.POST), instance=application)
        members = _members(request, application)
    else:
        form = ApplicationForm(request.POST or None, instance=application)
        members = _members(request, application)
        if action:
            valid = all([form.is_valid(), members.is_valid()])  # every error shown at once
            if action in ("submit", "claim") and not form.cleaned_data.get("consent"):
                form.add_error("consent", _("提交前请勾选同意查询部门数据（在页面底部）。"))
            elif valid:
                response, blocked = _save(request, form, members, action)
                if response is not None:
                    return response
    vouched.lock(form, request.vouched)
    return render(
        request,
        "housing/apply.html",
        {
            "form": form,
            "members": members,
            "application": application,
            "blocked": blocked,
            "place_tree": form.place_tree().as_json(),
        },
    )


def _members(request: HttpRequest, application: Application) -> MemberFormSet:
    """The saved members pre-fill the page; a posted table stands on its own: compared with
    that initial, unchanged rows would count as empty and a resubmission would lose them."""
    action = request.POST.get("action")
    if request.method == "POST" and (
        action not in ("prefill", "places") or "m-TOTAL_FORMS" in request.POST
    ):
        return MemberFormSet(request.POST, prefix="m")
    rows = (
        [
            {"name": m.name, "relation": m.relation, "id_number": m.id_number}
            for m in application.members.all()
        ]
        if application.pk
        else []
    )
    return MemberFormSet(initial=rows, prefix="m")


def _posted(data: QueryDict) -> dict:
    """What the applicant typed, as the initial values of a form shown again unsaved."""
    initial: dict = {}
    for name in ApplicationForm.base_fields:
        if name == "priorities":
            initial[name] = data.getlist(name)
        elif name == "consent":
            initial[name] = name in data
        elif name in data:
            initial[name] = data[name]
    return initial


def _save(
    request: HttpRequest, form: ApplicationForm, members, action: str
) -> tuple[HttpResponse | None, identity.IdentityBlocked | None]:
    rows = [m.cleaned_data for m in members if m.cleaned_data.get("name")]
    draft = form.save(commit=False)
    prefilled = _prefilled(request)
    if prefilled.get("id_number") == draft.id_number:
        draft.prefilled = prefilled
    try:
        if action == "claim":
            return _claim(request, draft, rows), None
        # keep_vouched put the provider's name and ID number on it: the file says so.
        who = request.vouched
        saved = services.save_application(
            draft, rows, submit=action == "submit", vouched_by=who.verified_by if who else ""
        )
    except identity.IdentityBlocked as exc:
        # Kept as a draft, so the claim has the case it is about.
        services.save_application(draft, rows, submit=False)
        form.add_error(None, str(exc))
        return None, exc
    except identity.IdentityUnavailable as exc:
        # 公安 is down: nothing typed is lost, the resident submits again later.
        services.save_application(draft, rows, submit=False)
        form.add_error(None, str(exc))
        return None, None
    except services.NotAllowed as exc:
        form.add_error(getattr(exc, "field", None), str(exc))
        return None, None
    request.session.pop("prefill", None)
    if action == "submit":
        messages.success(request, _("申请已提交，可随时在“我的申请”查看进度。"))
        _licence_message(request, saved)
        return redirect("my-cases"), None
    messages.success(request, _("草稿已保存。"))
    return redirect("apply"), None


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


def _licence_message(request: HttpRequest, saved: Application) -> None:
    """What the licence service gave instead of paper, or why it could not (not an error)."""
    problem = getattr(saved, "licence_problem", "")
    if problem:
        messages.warning(
            request,
            _("本次未能使用电子证照（%(e)s）。申请已正常提交；如受理时需要，请按通知提交纸质材料。")
            % {"e": problem},
        )
    elif held := list(dict.fromkeys(u.label for u in licences.used_by(saved) if u.found)):
        messages.info(
            request,
            _("已使用电子证照：%(names)s，免于提交纸质材料。") % {"names": "、".join(held)},
        )


def _prefilled(request: HttpRequest) -> dict:
    token = request.session.get("prefill")
    return json.loads(crypto.decrypt(token)) if isinstance(token, str) else {}


def _prefill(request: HttpRequest, application: Application):
    """Ask 公安 and 不动产 for the household; the form comes back filled in, not yet saved.
    What stops the query is shown by the field it is about, with how to fix it."""
    initial = _posted(request.POST)
    name = request.POST.get("name", "").strip()
    number = request.POST.get("id_number", "").strip().upper()
    problems: dict[str | None, str] = {}
    if not name:
        problems["name"] = _("请先填写“姓名”（与身份证上一致），再查询部门数据。")
    if not number:
        problems["id_number"] = _("请先填写“身份证号”，再查询部门数据。")
    elif error := validate_id_number(number):
        problems["id_number"] = error
    data = None
    if not problems:
        try:
            data = services.prefill(number, name, applicant=request.applicant)
        except identity.IdentityProblem as exc:
            problems[exc.field] = str(exc)
        except (services.NotAllowed, SourceUnavailable) as exc:
            messages.error(request, _("未能自动填写：%(e)s 您也可以手动填写。") % {"e": exc})
    if data is None:
        form = ApplicationForm(initial=initial, instance=application)
        for field, message in problems.items():
            form.note(field, message)
        return form, _members(request, application)
    # Sessions are stored in the database: the household goes in encrypted like every copy.
    request.session["prefill"] = crypto.encrypt(json.dumps(data | {"id_number": number}))
    if not initial.get("county") and data.get("hukou_county"):
        # A suggestion the applicant can change: the county of the household registration.
        initial["county"] = (
            Region.objects.filter(level=Region.Level.DISTRICT, adcode=data["hukou_county"])
            .values_list("pk", flat=True)
            .first()
        )
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
    return ApplicationForm(initial=initial, instance=application), MemberFormSet(
        initial=rows, prefix="m"
    )


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
                application.used_licences = licences.used_by(found)
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
        findings.sort(key=lambda f: f.passed)  # what stands in the way first
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


@applicant_required
def my_messages(request: HttpRequest) -> HttpResponse:
    """站内信: newest first; what was unread is marked as new once, then read."""
    listed = list(inbox.messages_of(request.applicant)[:200])
    inbox.mark_read(request.applicant)
    return render(request, "housing/my_messages.html", {"inbox": listed})
