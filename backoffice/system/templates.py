"""系统管理 · 消息模板: the words of every 站内信 and SMS sent to residents, listed and edited
by the city's account administrators, with a preview on sample values, a required reason,
"restore the shipped text" and the history of changes (`template.changed` events).

Everyone else is refused (403), as on the other system pages; an unknown code is a 404.
"""

from django import forms
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from archive.models import Event
from backoffice.system import template_services as services
from backoffice.views import staff_required
from housing import messages
from housing.models import MessageTemplate


class TemplateForm(forms.Form):
    subject = forms.CharField(label=_("站内信标题"), max_length=200, required=False)
    body = forms.CharField(
        label=_("站内信内容"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    sms = forms.CharField(
        label=_("短信内容"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reason = forms.CharField(label=_("修改原因（记入历史）"), max_length=300, required=False)

    def __init__(self, *args, channel: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if channel == MessageTemplate.Channel.SMS:
            del self.fields["subject"], self.fields["body"]

    def texts(self) -> dict[str, str]:
        return {k: self.cleaned_data.get(k, "") for k in services.FIELDS}


def _admin(request: HttpRequest) -> None:
    if not services.may_edit(request.user):
        raise PermissionDenied(_("只有市级账号管理员可以修改消息模板。"))


def _template(code: str) -> messages.Template:
    row = MessageTemplate.objects.filter(code=code).first()
    if row is not None:
        return messages.from_row(row)
    if code in messages.shipped():
        return messages.shipped()[code]
    raise Http404


@staff_required
def template_list(request: HttpRequest) -> HttpResponse:
    _admin(request)
    rows = {row.code: row for row in MessageTemplate.objects.select_related("updated_by")}
    shipped = messages.shipped()
    listed = [
        {
            "code": code,
            "name": row.name if row else shipped[code].name,
            "purpose": row.purpose if row else shipped[code].purpose,
            "channel": (row.channel if row else shipped[code].channel),
            "customised": bool(row and row.customised),
            "row": row,
        }
        for code in sorted(set(rows) | set(shipped))
        for row in [rows.get(code)]
    ]
    return render(
        request,
        "staff/system/message_templates.html",
        {"section": "templates", "templates": listed, "is_city_admin": True},
    )


def _preview(tpl: messages.Template) -> dict:
    """The words on the sample values, and the SMS as it would go (an empty SMS of a 站内信
    sends the subject with the standard nudge)."""
    sample = tpl.format(**tpl.samples())
    sms = sample.sms or f"{messages.SIGN}{sample.subject}，详情请登录“我的申请”查看。"
    return {"subject": sample.subject, "body": sample.body, "sms": sms, "sms_length": len(sms)}


@staff_required
def template_edit(request: HttpRequest, code: str) -> HttpResponse:
    _admin(request)
    tpl = _template(code)
    shipped = messages.shipped().get(code)
    preview, warnings = None, []
    if request.method == "POST":
        action = request.POST.get("action", "save")
        form = TemplateForm(request.POST, channel=tpl.channel)
        if action not in ("save", "preview", "restore"):
            raise Http404
        if form.is_valid():
            try:
                if action == "preview":
                    candidate = messages.Template(**(tpl.__dict__ | form.texts()))
                    warnings = messages.check(candidate)
                    preview = _preview(candidate)
                else:
                    changed, warnings = services.change_template(
                        code,
                        form.texts(),
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                        restore=action == "restore",
                    )
                    for warning in warnings:
                        flash.warning(request, warning)
                    if changed:
                        flash.success(request, _("已保存，之后发出的消息使用新文字。"))
                    else:
                        flash.info(request, _("没有改动，未保存。"))
                    return redirect("system-message-template", code=code)
            except messages.TemplateError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, str(exc))
            except services.NotAllowed as exc:
                form.add_error("reason" if "原因" in str(exc) else None, str(exc))
    else:
        form = TemplateForm(initial=tpl.texts(), channel=tpl.channel)
        preview = _preview(tpl)
        warnings = messages.check(tpl)
    history = (
        Event.objects.filter(action="template.changed", after__code=code)
        .select_related("actor")
        .order_by("-at", "-id")[:20]
    )
    return render(
        request,
        "staff/system/message_template.html",
        {
            "section": "templates",
            "is_city_admin": True,
            "tpl": tpl,
            "form": form,
            "preview": preview,
            "warnings": warnings,
            "placeholders": [
                (name, spec.get("label", ""), spec.get("sample", ""))
                for name, spec in tpl.placeholders.items()
            ],
            "shipped": shipped,
            "is_shipped": shipped is not None and shipped.texts() == tpl.texts(),
            "history": history,
            "labels": messages.FIELD_LABELS,
        },
    )
