"""系统管理 · 工作日历: the city's own days off and extra working days on top of the State
Council's calendar, which every working-day deadline counts with (disclosure.calendar).

City account administrators only (403 for everyone else): the calendar is city-wide.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.models import Event
from backoffice.system import calendar_services as services
from backoffice.views import staff_required
from disclosure.models import CalendarDay

ACTIONS = ["calendar.day_added", "calendar.day_removed"]


class DayForm(forms.Form):
    day = forms.DateField(
        label=_("日期"),
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={
            "required": _("日期：请选择日期。"),
            "invalid": _("日期：请按 2026-10-01 的格式填写。"),
        },
    )
    working = forms.TypedChoiceField(
        label=_("调整为"),
        choices=[("0", _("放假（本市另行放假的工作日）")), ("1", _("上班（调休上班的休息日）"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
        error_messages={
            "required": _("调整为：请选择放假或上班。"),
            "invalid_choice": _("调整为：请选择放假或上班。"),
        },
    )
    reason = forms.CharField(
        label=_("原因（如市政府通知文号）"),
        max_length=200,
        error_messages={"required": _("原因：请写明调整原因。")},
    )


def _city_admin(request: HttpRequest) -> None:
    if not services.is_city_admin(request.user):
        raise PermissionDenied(_("工作日历由市级账号管理员维护。"))


@staff_required
def calendar(request: HttpRequest) -> HttpResponse:
    _city_admin(request)
    form = DayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            row = services.add_day(
                form.cleaned_data["day"],
                working=form.cleaned_data["working"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except services.NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("已添加 %(day)s，之后计算的期限按新日历执行。") % {"day": f"{row.day:%Y-%m-%d}"},
            )
            return redirect("system-calendar")
    days = CalendarDay.objects.select_related("created_by").order_by("-day")
    page = Paginator(days, 50).get_page(request.GET.get("page"))
    history = Event.objects.filter(action__in=ACTIONS).select_related("actor").order_by("-id")[:20]
    return render(
        request,
        "staff/system/calendar.html",
        {
            "section": "calendar",
            "is_city_admin": True,
            "form": form,
            "page": page,
            "today": timezone.localdate(),
            "history": history,
        },
    )


@staff_required
@require_POST
def calendar_remove(request: HttpRequest, day_id: int) -> HttpResponse:
    _city_admin(request)
    try:
        row = services.remove_day(day_id, reason=request.POST.get("reason", ""), actor=request.user)
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已撤销 %(day)s 的调整。") % {"day": f"{row.day:%Y-%m-%d}"})
    return redirect("system-calendar")
