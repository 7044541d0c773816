"""系统管理 · 失信行为目录: the city's catalogue of dishonest conduct (credit.Conduct), edited by
city account administrators (403 for everyone else: the catalogue is city-wide)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.models import Event
from backoffice.system import catalogue_services as services
from backoffice.system.calendar_services import is_city_admin
from backoffice.views import staff_required
from credit.models import Conduct, Effect, Level, Stage

ACTIONS = ["credit.conduct_changed", "credit.conduct_added", "credit.conduct_deleted"]


def _required(label: str) -> dict:
    return {"required": f"{label}：请填写。", "max_length": f"{label}：过长。"}


class ConductForm(forms.Form):
    name = forms.CharField(
        label=_("失信行为"), max_length=100, error_messages=_required("失信行为")
    )
    level = forms.ChoiceField(
        label=_("失信等级"),
        choices=Level.choices,
        error_messages={
            "required": "失信等级：请选择。",
            "invalid_choice": "失信等级：请从列表中选择。",
        },
    )
    effect_months = forms.IntegerField(
        label=_("影响期限（月）"),
        min_value=1,
        max_value=120,
        error_messages={
            "required": "影响期限（月）：请填写。",
            "invalid": "影响期限（月）：请填写整数。",
            "min_value": "影响期限（月）：不得小于 1。",
            "max_value": "影响期限（月）：不得大于 120。",
        },
    )
    effects = forms.MultipleChoiceField(
        label=_("惩戒措施"),
        choices=Effect.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "惩戒措施：请从列表中选择。"},
    )
    consequence = forms.CharField(
        label=_("惩戒说明（告知当事人）"), max_length=200, error_messages=_required("惩戒说明")
    )
    active = forms.BooleanField(label=_("启用（可用于新的认定）"), required=False)
    reason = forms.CharField(
        label=_("修改原因（记入历史）"), max_length=300, error_messages=_required("修改原因")
    )

    def values(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "level": data["level"],
            "effect_months": data["effect_months"],
            # In the catalogue's order, so the same choice never reads as a change.
            "effects": [e for e in Effect.values if e in data["effects"]],
            "consequence": data["consequence"].strip(),
            "active": data["active"],
        }


class NewConductForm(ConductForm):
    code = forms.SlugField(
        label=_("代码（英文小写和连字符，保存后不能修改）"),
        max_length=40,
        error_messages={
            "required": "代码：请填写。",
            "invalid": "代码：只能用英文字母、数字和连字符。",
            "max_length": "代码：最多 40 个字符。",
        },
    )
    stage = forms.ChoiceField(
        label=_("环节"),
        choices=Stage.choices,
        error_messages={"required": "环节：请选择。", "invalid_choice": "环节：请从列表中选择。"},
    )
    field_order = ["code", "name", "stage"]

    def values(self) -> dict:
        return super().values() | {
            "code": self.cleaned_data["code"].lower(),
            "stage": self.cleaned_data["stage"],
        }


def _city_admin(request: HttpRequest) -> None:
    if not is_city_admin(request.user):
        raise PermissionDenied(_("失信行为目录由市级账号管理员维护。"))


@staff_required
def catalogue(request: HttpRequest) -> HttpResponse:
    _city_admin(request)
    form = NewConductForm(request.POST or None, initial={"active": True})
    if request.method == "POST" and form.is_valid():
        try:
            conduct = services.add_conduct(
                form.values(), reason=form.cleaned_data["reason"], actor=request.user
            )
        except services.NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已新增“%(name)s”。") % {"name": conduct.name})
            return redirect("system-catalogue")
    conducts = Conduct.objects.annotate(uses=Count("proposal")).order_by("stage", "code")
    history = Event.objects.filter(action__in=ACTIONS).select_related("actor").order_by("-id")[:20]
    return render(
        request,
        "staff/system/catalogue.html",
        {
            "section": "catalogue",
            "is_city_admin": True,
            "form": form,
            "conducts": conducts,
            "history": history,
        },
    )


@staff_required
def conduct_edit(request: HttpRequest, conduct_id: int) -> HttpResponse:
    _city_admin(request)
    conduct = get_object_or_404(Conduct, pk=conduct_id)
    form = ConductForm(request.POST or None, initial=services.values_of(conduct))
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.change_conduct(
                conduct.pk, form.values(), reason=form.cleaned_data["reason"], actor=request.user
            )
        except services.NotAllowed as exc:
            form.add_error(None, str(exc))
        else:
            if changed:
                messages.success(
                    request,
                    _("已保存 %(n)s 项修改，之后的认定按新目录执行。") % {"n": len(changed)},
                )
            else:
                messages.info(request, _("没有改动，未保存。"))
            return redirect("system-catalogue")
    uses = conduct.proposal_set.count()
    history = (
        Event.objects.filter(action__in=ACTIONS, after__conduct_id=conduct.pk)
        .select_related("actor")
        .order_by("-id")[:50]
    )
    return render(
        request,
        "staff/system/conduct.html",
        {
            "section": "catalogue",
            "is_city_admin": True,
            "conduct": conduct,
            "form": form,
            "uses": uses,
            "deletable": uses == 0 and conduct.code not in services.system_codes(),
            "history": history,
        },
    )


@staff_required
@require_POST
def conduct_delete(request: HttpRequest, conduct_id: int) -> HttpResponse:
    _city_admin(request)
    conduct = get_object_or_404(Conduct, pk=conduct_id)
    try:
        services.delete_conduct(
            conduct.pk, reason=request.POST.get("reason", ""), actor=request.user
        )
    except services.NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect("system-catalogue-conduct", conduct_id=conduct.pk)
    messages.success(request, _("已删除“%(name)s”。") % {"name": conduct.name})
    return redirect("system-catalogue")
