"""系统管理 · 工作人员账号: the list, creating, editing, disabling, resetting and unlocking.

An account outside the viewer's area does not exist for them (404); inside it, anyone who is
not an account administrator is refused (403). Writes go through accounts_services.
"""

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from backoffice.models import StaffProfile
from backoffice.system import accounts_services as services
from backoffice.system import scope
from backoffice.views import staff_required
from geo.models import Operator, Region

STATUSES = {"active": _("在用"), "disabled": _("已停用")}
ACTIONS = {"disable", "enable", "reset-password", "unlock"}


def _require_admin(request: HttpRequest) -> None:
    if not scope.is_admin(request.user):
        raise PermissionDenied(_("只有账号管理员可以管理工作人员账号。"))


def _profiles(user):
    return StaffProfile.objects.filter(scope.account_scope(user)).select_related(
        "user", "region", "operator"
    )


class RegionChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Region) -> str:
        return f"{obj.name}（{obj.get_level_display()} {obj.adcode}）"


class AccountForm(forms.Form):
    """Role and place offered from what the administrator may grant; the service checks again."""

    username = forms.RegexField(
        label=_("用户名"),
        max_length=150,
        regex=r"^[A-Za-z0-9_.@+-]+$",
        error_messages={
            "required": _("用户名：请填写用户名。"),
            "invalid": _("用户名：只能包含字母、数字和 _ . @ + -。"),
        },
    )
    name = forms.CharField(
        label=_("姓名"), max_length=150, error_messages={"required": _("姓名：请填写姓名。")}
    )
    role = forms.ChoiceField(
        label=_("角色"),
        error_messages={
            "required": _("角色：请选择角色。"),
            "invalid_choice": _("角色：不能授予高于本人层级的角色。"),
        },
    )
    region = RegionChoice(
        label=_("所辖区域"),
        queryset=Region.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("所辖区域：该区域不在您的管辖范围内。")},
    )
    operator = forms.ModelChoiceField(
        label=_("运营单位"),
        queryset=Operator.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("运营单位：该运营单位不在您的管辖范围内。")},
    )
    is_admin = forms.BooleanField(
        label=_("账号管理员（可管理本辖区、本层级及以下的账号和区县规则）"), required=False
    )

    def __init__(self, *args, actor, creating: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        if not creating:
            del self.fields["username"]
        self.fields["role"].choices = [("", "—"), *scope.grantable_roles(actor)]
        self.fields["region"].queryset = scope.grantable_regions(actor)
        self.fields["operator"].queryset = scope.operators_in_area(actor).order_by("name")

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("用户名：该用户名已被使用。"))
        return username

    def clean(self) -> dict:
        data = super().clean()
        role = data.get("role")
        if not role:
            return data
        if role == StaffProfile.Role.OPERATOR:
            if not data.get("operator"):
                self.add_error("operator", _("运营单位：运营单位账号须选择运营单位。"))
            data["region"] = None
            if data.get("is_admin"):
                self.add_error("is_admin", _("账号管理员：运营单位账号不能设为账号管理员。"))
        else:
            region = data.get("region")
            data["operator"] = None
            if region is None:
                self.add_error("region", _("所辖区域：该角色须选择所辖区域。"))
            elif region.level != StaffProfile.LEVEL_OF_ROLE[role]:
                self.add_error(
                    "region",
                    _("所辖区域：%(role)s须选择%(level)s一级的区域。")
                    % {
                        "role": StaffProfile.Role(role).label,
                        "level": Region.Level(StaffProfile.LEVEL_OF_ROLE[role]).label,
                    },
                )
        return data

    def grant(self) -> services.Grant:
        d = self.cleaned_data
        return services.Grant(
            role=d["role"], region=d["region"], operator=d["operator"], is_admin=d["is_admin"]
        )


def _locked_usernames(request: HttpRequest, usernames: list[str]) -> set[str]:
    """Which of these usernames django-axes holds locked now (one query for the page)."""
    rows = AccessAttempt.objects.filter(
        username__in=usernames,
        attempt_time__gte=timezone.now() - get_cool_off(request),
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
    )
    return set(rows.values_list("username", flat=True))


def _shown_once(request: HttpRequest, account, password: str, created: bool) -> HttpResponse:
    """The one-time password, on a page no cache keeps; it is stored nowhere in clear."""
    page = render(
        request,
        "staff/system/password.html",
        {"account": account, "password": password, "created": created},
    )
    add_never_cache_headers(page)
    return page


@staff_required
def account_list(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    rows = _profiles(request.user)
    q = request.GET.get("q", "").replace("\x00", "").strip()[:60]
    if q:
        rows = rows.filter(
            Q(user__username__icontains=q)
            | Q(user__first_name__icontains=q)
            | Q(region__name__icontains=q)
            | Q(operator__name__icontains=q)
        )
    role = request.GET.get("role", "")
    if role in StaffProfile.Role.values:
        rows = rows.filter(role=role)
    else:
        role = ""
    status = request.GET.get("status", "")
    if status in STATUSES:
        rows = rows.filter(user__is_active=status == "active")
    else:
        status = ""
    page = Paginator(rows.order_by("role", "region__adcode", "user__username"), 30).get_page(
        request.GET.get("page")
    )
    locked = _locked_usernames(request, [p.user.username for p in page.object_list])
    return render(
        request,
        "staff/system/accounts.html",
        {
            "section": "accounts",
            "page": page,
            "locked": locked,
            "q": q,
            "role": role,
            "roles": StaffProfile.Role.choices,
            "status": status,
            "statuses": STATUSES.items(),
        },
    )


@staff_required
def account_new(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    form = AccountForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            user, password = services.create_account(
                username=form.cleaned_data["username"],
                name=form.cleaned_data["name"],
                grant=form.grant(),
                actor=request.user,
            )
        except services.NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            return _shown_once(request, user, password, created=True)
    return render(request, "staff/system/account_form.html", {"section": "accounts", "form": form})


@staff_required
def account_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    profile = get_object_or_404(_profiles(request.user), user_id=user_id)
    _require_admin(request)
    own = profile.user_id == request.user.pk
    initial = {
        "name": profile.user.first_name,
        "role": profile.role,
        "region": profile.region_id,
        "operator": profile.operator_id,
        "is_admin": profile.is_admin,
    }
    form = AccountForm(request.POST or None, actor=request.user, creating=False, initial=initial)
    if request.method == "POST":
        if own:
            raise PermissionDenied(_("不能修改自己的账号。"))
        if form.is_valid():
            try:
                services.change_account(
                    user_id,
                    name=form.cleaned_data["name"],
                    grant=form.grant(),
                    actor=request.user,
                )
            except services.NotAllowed as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("账号已保存。"))
                return redirect("system-account", user_id=user_id)
    return render(
        request,
        "staff/system/account.html",
        {
            "section": "accounts",
            "account": profile,
            "own": own,
            "form": form,
            "locked": bool(_locked_usernames(request, [profile.user.username])),
        },
    )


@require_POST
@staff_required
def account_act(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    profile = get_object_or_404(_profiles(request.user), user_id=user_id)
    _require_admin(request)
    if action not in ACTIONS:
        raise PermissionDenied(_("未知的操作。"))
    try:
        if action == "reset-password":
            password = services.reset_password(user_id, actor=request.user)
            return _shown_once(request, profile.user, password, created=False)
        if action == "unlock":
            services.unlock(user_id, actor=request.user)
            messages.success(request, _("已解除登录锁定。"))
        else:
            services.set_active(user_id, action == "enable", actor=request.user)
            messages.success(
                request, _("账号已启用。") if action == "enable" else _("账号已停用。")
            )
    except services.NotAllowed as exc:
        raise PermissionDenied(str(exc)) from exc
    return redirect("system-account", user_id=user_id)
