"""Resident contract pages (read, confirm with an SMS code, download) and /verify/ for anyone."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive import documents
from archive.client_ip import client_ip
from archive.ratelimit import Rate, hit
from housing.errors import NotAllowed
from housing.views import applicant_required
from tenancy import verification
from tenancy.models import Contract
from tenancy.services import contracts

VERIFY_MAX_BYTES = 10 * 1024 * 1024
VERIFIES = Rate("contract-verify-ip", 30, 3600)


def _mine(request: HttpRequest, contract_id: int) -> Contract:
    return get_object_or_404(
        Contract.objects.select_related("unit__building__estate", "household"),
        pk=contract_id,
        household__applicant=request.applicant,
    )


class ConfirmForm(forms.Form):
    code = forms.RegexField(
        label=_("短信验证码"),
        regex=r"^\d{6}$",
        error_messages={"invalid": _("请输入 6 位数字验证码。"), "required": _("请输入验证码。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    agree = forms.BooleanField(
        label=_("我已阅读并同意本合同全部条款"),
        error_messages={"required": _("请先阅读合同并勾选同意。")},
    )


@applicant_required
def my_contract(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = _mine(request, contract_id)
    return render(
        request,
        "tenancy/my_contract.html",
        {
            "contract": contract,
            "form": ConfirmForm(),
            "address": contracts.unit_address(contract.unit),
        },
    )


@applicant_required
def my_contract_pdf(request: HttpRequest, contract_id: int) -> HttpResponse:
    """The signed copy once there is one, the draft before."""
    contract = _mine(request, contract_id)
    document = contract.signed or contract.draft
    return documents.serve(
        request, document, filename=f"{contract.number}.pdf", applicant_id=request.applicant.pk
    )


@applicant_required
@require_POST
def my_contract_code(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = _mine(request, contract_id)
    try:
        contracts.send_confirmation_code(contract, ip=client_ip(request))
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("验证码已发送到您登记的手机。"))
    return redirect("my-contract", contract_id=contract.pk)


@applicant_required
@require_POST
def my_contract_confirm(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = _mine(request, contract_id)
    form = ConfirmForm(request.POST)
    if form.is_valid():
        try:
            contracts.confirm(
                contract.pk,
                contracts.Confirming(
                    request.applicant, form.cleaned_data["code"], client_ip(request)
                ),
            )
        except NotAllowed as exc:
            form.add_error("code", str(exc))
        else:
            messages.success(request, _("您已确认合同，运营单位审核签章后将短信通知您。"))
            return redirect("my-contract", contract_id=contract.pk)
    return render(
        request,
        "tenancy/my_contract.html",
        {"contract": contract, "form": form, "address": contracts.unit_address(contract.unit)},
        status=400,
    )


class VerifyForm(forms.Form):
    pdf = forms.FileField(
        label=_("合同 PDF 文件"),
        error_messages={"required": _("请选择要核验的 PDF 文件。")},
    )

    def clean_pdf(self):
        upload = self.cleaned_data["pdf"]
        if upload.size > VERIFY_MAX_BYTES:
            raise forms.ValidationError(_("文件超过 10 MB，不是本平台签发的合同。"))
        head = upload.read(5)
        upload.seek(0)
        if head != b"%PDF-":
            raise forms.ValidationError(_("该文件不是 PDF。"))
        return upload


def verify(request: HttpRequest) -> HttpResponse:
    """Anyone may check a contract: signatures, signer, time, and whether it is our copy."""
    form = VerifyForm(request.POST or None, request.FILES or None)
    verdict = None
    status = 200
    if request.method == "POST":
        if not hit(VERIFIES, client_ip(request)):
            form.add_error(None, _("核验次数过多，请一小时后再试。"))
            status = 429
        elif form.is_valid():
            verdict = verification.verify(form.cleaned_data["pdf"].read())
        else:
            status = 400
    return render(request, "tenancy/verify.html", {"form": form, "verdict": verdict}, status=status)
