"""群众举报 (public, phone-first): anyone reports a suspected violation at an estate, anonymously
or with a phone for follow-up, and gets a reference number. Submissions are rate limited per
address so the county's queue cannot be flooded."""

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from archive.client_ip import client_ip
from archive.ratelimit import Rate, hit
from geo.models import Estate
from housing.errors import NotAllowed
from tenancy.models import Complaint, ViolationKind
from tenancy.services import complaints

REPORTS = Rate("complaint-ip", 5, 3600)
SESSION_KEY = "complaint_references"


class ComplaintForm(forms.Form):
    estate = forms.TypedChoiceField(label=_("小区"), coerce=int, choices=())
    place = forms.CharField(
        label=_("楼栋和房号（可不填）"),
        required=False,
        max_length=60,
        help_text=_("例如：3号楼 502"),
    )
    kind = forms.ChoiceField(label=_("举报事项"), required=False, choices=())
    text = forms.CharField(
        label=_("举报内容"),
        min_length=10,
        max_length=complaints.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("请写明看到的情况、时间，不少于 10 个字。"),
        error_messages={"min_length": _("举报内容：请至少写 10 个字，说明看到的情况。")},
    )
    anonymous = forms.BooleanField(
        label=_("匿名举报（不留联系方式）"), required=False, initial=True
    )
    phone = forms.CharField(
        label=_("联系电话（实名举报时填写，仅用于核实回访，不会公开）"),
        required=False,
        max_length=11,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        groups: dict[str, list] = {}
        for pk, name, county in (
            Estate.objects.published()
            .order_by("district__adcode", "name")
            .values_list("pk", "name", "district__name")
        ):
            groups.setdefault(county, []).append((pk, name))
        self.fields["estate"].choices = [("", _("请选择小区")), *groups.items()]
        self.fields["kind"].choices = [
            ("", _("其他 / 不确定")),
            *ViolationKind.objects.filter(active=True).values_list("code", "name"),
        ]

    def clean(self):
        data = super().clean()
        if not data.get("anonymous") and not data.get("phone"):
            self.add_error("phone", _("联系电话：请填写 11 位手机号码，或选择匿名举报。"))
        return data


def report(request: HttpRequest) -> HttpResponse:
    form = ComplaintForm(request.POST or None)
    limited = False
    if request.method == "POST":
        if not hit(REPORTS, client_ip(request)):
            limited = True
            form.add_error(None, _("提交过于频繁，请一小时后再试。"))
        elif form.is_valid():
            data = form.cleaned_data
            try:
                complaint = complaints.submit(
                    estate_id=data["estate"],
                    place=data["place"],
                    kind_code=data["kind"],
                    text=data["text"],
                    anonymous=data["anonymous"],
                    phone=data["phone"],
                )
            except NotAllowed as exc:
                form.add_error(None, str(exc))
            else:
                mine = request.session.get(SESSION_KEY, [])[-9:]
                request.session[SESSION_KEY] = [*mine, complaint.reference]
                return redirect("complaint-receipt", reference=complaint.reference)
    response = render(request, "tenancy/complaint_form.html", {"form": form})
    if limited:
        response.status_code = 429
    return response


def receipt(request: HttpRequest, reference: str) -> HttpResponse:
    """The reference number, shown to the browser that filed the report (no one else)."""
    if reference not in request.session.get(SESSION_KEY, []):
        return redirect("complaint")
    complaint = Complaint.objects.filter(reference=reference).first()
    if complaint is None:
        return redirect("complaint")
    return render(request, "tenancy/complaint_receipt.html", {"complaint": complaint})
