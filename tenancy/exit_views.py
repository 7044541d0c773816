"""退租 from /my/: the tenant of a running lease gives notice (the county's days ahead) and then
follows the exit to its settlement. Another applicant's lease does not exist here (404)."""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from housing.errors import NotAllowed
from housing.views import applicant_required
from tenancy.models import Contract, Exit
from tenancy.services import exits
from tenancy.services.contracts import policy_for, unit_address


class NoticeForm(forms.Form):
    move_out_by = forms.DateField(
        label=_("计划腾退日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    reason = forms.CharField(
        label=_("退租原因（选填）"),
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    agree = forms.BooleanField(
        label=_("我确认申请退租，并将按期腾退房屋、结清租金"),
        error_messages={"required": _("请勾选确认。")},
    )


@applicant_required
def my_exit(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = get_object_or_404(
        Contract.objects.select_related("unit__building__estate", "household"),
        pk=contract_id,
        household__applicant=request.applicant,
    )
    exit_ = contract.exits.order_by("-created_at").first()
    notice_days = policy_for(contract.household.county).exit_notice_days
    earliest = timezone.localdate() + timedelta(days=notice_days)
    can_give_notice = contract.status == Contract.Status.ACTIVE and (
        exit_ is None or exit_.status == Exit.Status.WITHDRAWN
    )
    form = NoticeForm(
        request.POST if request.method == "POST" else None, initial={"move_out_by": earliest}
    )
    if request.method == "POST" and can_give_notice and form.is_valid():
        reason = form.cleaned_data["reason"].strip()
        try:
            exits.start(
                contract.pk,
                reason=Exit.Reason.VOLUNTARY,
                actor=None,
                source_ref=f"承租人在线申请{('：' + reason) if reason else ''}",
                move_out_by=form.cleaned_data["move_out_by"],
            )
        except NotAllowed as exc:
            form.add_error("move_out_by", str(exc))
        else:
            messages.success(request, _("退租申请已提交，运营单位将与您联系验房。"))
            return redirect("my-exit", contract_id=contract.pk)
    return render(
        request,
        "tenancy/exit.html",
        {
            "contract": contract,
            "address": unit_address(contract.unit),
            "exit": exit_,
            "form": form if can_give_notice else None,
            "notice_days": notice_days,
            "earliest": earliest,
        },
    )
