"""The back office frame: sign-in (django-axes locks) and the seven modules' navigation."""

from functools import wraps

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _

from backoffice.forms import StaffLoginForm
from geo.jurisdiction import profile_of

MODULES = [
    # (slug, name, what it will do, built?)
    ("review", _("申请审核"), _("受理、初审、联审（大数据比对）、复审、公示与审批"), True),
    ("allocation", _("轮候配租"), _("轮候名单、房源发布、摇号与选房、配租结果"), True),
    ("contracts", _("合同签订"), _("租赁合同的生成、签订与续签"), True),
    ("operations", _("运营管理"), _("租金、入住、年审、动态核查、退出"), True),
    ("credit", _("信用管理"), _("失信记录的采集、确认与信用修复"), True),
    ("assets", _("资产管理"), _("项目、楼栋、房屋与房源地理数据"), True),
    ("archives", _("档案管理"), _("一房一档、一户一档、批量下载、贯标导出与存证"), True),
    ("statistics", _("统计分析"), _("统计图表与报表下载"), True),
    ("system", _("系统管理"), _("工作人员账号与区县政策"), True),
]


def staff_required(view):
    """Staff only: a visitor is sent to sign in; a signed-in non-staff user gets 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect(f"{reverse('staff-login')}?next={request.get_full_path()}")
        if not (request.user.is_superuser or profile_of(request.user)):
            raise PermissionDenied(_("该账户没有后台权限。"))
        return view(request, *args, **kwargs)

    return wrapper


class LoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    authentication_form = StaffLoginForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("staff-home")


def locked_out(
    request: HttpRequest, response=None, credentials: dict | None = None
) -> HttpResponse:
    """django-axes' answer at either door (AXES_LOCKOUT_CALLABLE): the sign-in page saying why
    and for how long, not a bare error page. The form is not validated again: that would be
    one more attempt."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    minutes = round(get_cool_off(request).total_seconds() / 60)
    page = render(
        request,
        "staff/login.html",
        {
            "form": StaffLoginForm(request, initial={"username": username}),
            "locked_minutes": minutes,
            "next": request.POST.get("next", ""),
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    add_never_cache_headers(page)
    return page


@staff_required
def module(request: HttpRequest, slug: str) -> HttpResponse:
    """A module that is not built yet says so plainly."""
    for key, name, purpose, built in MODULES:
        if key == slug and not built:
            return render(request, "staff/module_pending.html", {"name": name, "purpose": purpose})
    raise Http404


def modules_context(request: HttpRequest) -> dict:
    """The navigation, for every back-office page."""
    from backoffice import operations  # it imports staff_required from here

    if not request.path.startswith("/staff/"):
        return {}
    built = {
        "assets": reverse("assets"),
        "review": reverse("review-queue"),
        "allocation": reverse("allocation"),
        "contracts": reverse("contracts"),
        "operations": reverse("operations"),
        "credit": reverse("credit"),
        "archives": reverse("archives"),
        "statistics": reverse("statistics"),
        "system": reverse("system"),
    }
    return {
        "staff_modules": [
            {
                "slug": k,
                "name": n,
                "built": b,
                "url": built.get(k) or reverse("staff-module", args=[k]),
                "current": request.path.startswith(f"/staff/{k}/")
                or (k == "operations" and request.path.startswith("/staff/inspections/")),
            }
            for k, n, _purpose, b in MODULES
        ],
        "staff_profile": profile_of(request.user) if request.user.is_authenticated else None,
        "publishing_url": reverse("publishing"),
        "operations_nav": operations.subnav(request.path),
    }
