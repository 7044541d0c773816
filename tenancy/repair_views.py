"""Resident repair pages on /my/repairs/: report from a phone with photos, follow, confirm or
ask for the work again. A tenant sees only their own household's repairs (others are 404)."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive import documents
from housing.errors import NotAllowed
from housing.views import applicant_required
from tenancy.models import Contract, Repair, RepairCategory, RepairPhoto
from tenancy.models.repairs import MAX_PHOTOS, PHOTO_MAX_BYTES, PHOTOS_MAX_TOTAL_BYTES
from tenancy.repair_selectors import is_overdue
from tenancy.services import repairs
from tenancy.services.contracts import unit_address

# Room for the form fields and multipart framing around the photos' own limit.
REQUEST_MAX_BYTES = PHOTOS_MAX_TOTAL_BYTES + 1024 * 1024
ACCEPT = "image/jpeg,image/png,image/webp"


def limits_text() -> str:
    return _(
        "最多 %(n)s 张照片，每张不超过 %(each)s MB，合计不超过 %(total)s MB（JPEG、PNG 或 WebP）。"
    ) % {
        "n": MAX_PHOTOS,
        "each": PHOTO_MAX_BYTES // 1048576,
        "total": PHOTOS_MAX_TOTAL_BYTES // 1048576,
    }


def too_big(request: HttpRequest) -> bool:
    """Whether the request is over the photos' limit, judged from its length before any of it
    is read."""
    return int(request.META.get("CONTENT_LENGTH") or 0) > REQUEST_MAX_BYTES


class MultiplePhotoInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    """Zero or more files from one <input multiple>; each is checked by the service."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", MultiplePhotoInput(attrs={"accept": ACCEPT}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def read_photos(files) -> list[tuple[str, bytes]]:
    """The uploaded files as (name, bytes), refusing too many before reading them all."""
    if len(files) > MAX_PHOTOS:
        raise repairs.PhotosNotAllowed(
            _("最多上传 %(max)s 张照片，您选择了 %(count)s 张。")
            % {"max": MAX_PHOTOS, "count": len(files)}
        )
    return [(f.name, f.read()) for f in files]


class ReportForm(forms.Form):
    contract = forms.ModelChoiceField(
        label=_("房屋"), queryset=Contract.objects.none(), empty_label=None
    )
    category = forms.ModelChoiceField(
        label=_("维修类别"),
        queryset=RepairCategory.objects.filter(active=True),
        to_field_name="code",
        empty_label=None,
    )
    description = forms.CharField(
        label=_("问题描述"),
        max_length=repairs.DESCRIPTION_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("哪里坏了、什么情况、方便上门的时间。"),
        error_messages={"required": _("请填写问题描述：哪里坏了、什么情况。")},
    )
    photos = PhotosField(label=_("照片（可选）"))

    def __init__(self, *args, contracts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = contracts
        self.fields["contract"].label_from_instance = lambda c: unit_address(c.unit)
        self.fields["photos"].help_text = limits_text()
        self.fields["category"].label_from_instance = lambda c: (
            _("%(name)s（%(hours)s 小时内响应）") % {"name": c.name, "hours": c.respond_hours}
        )


def _contracts(request: HttpRequest):
    return Contract.objects.filter(
        household__applicant=request.applicant, status=Contract.Status.ACTIVE
    ).select_related("unit__building__estate")


def _mine(request: HttpRequest, repair_id: int) -> Repair:
    return get_object_or_404(
        Repair.objects.select_related("category", "unit__building__estate"),
        pk=repair_id,
        household__applicant=request.applicant,
    )


@applicant_required
def my_repairs(request: HttpRequest) -> HttpResponse:
    rows = (
        Repair.objects.filter(household__applicant=request.applicant)
        .select_related("category", "unit__building__estate")
        .order_by("-reported_at")[:100]
    )
    return render(
        request,
        "tenancy/repair_list.html",
        {"repairs": rows, "can_report": _contracts(request).exists()},
    )


@applicant_required
def my_repair_new(request: HttpRequest) -> HttpResponse:
    """The report form; photos are cleaned (metadata dropped) and kept only if all pass."""
    contracts = _contracts(request)
    if not contracts.exists():
        messages.error(request, _("只有履行中的租赁合同可以报修。"))
        return redirect("my-repairs")
    if request.method == "POST" and too_big(request):
        form = ReportForm(contracts=contracts, initial={"contract": contracts.first()})
        refused = _("上传内容过大，没有保存：") + limits_text()
        return render(
            request, "tenancy/repair_new.html", {"form": form, "refused": refused}, status=413
        )
    form = ReportForm(
        request.POST or None,
        request.FILES or None,
        contracts=contracts,
        initial={"contract": contracts.first()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            repair = repairs.report_by_tenant(
                applicant=request.applicant,
                contract_id=data["contract"].pk,
                category=data["category"].code,
                description=data["description"],
                photos=read_photos(data["photos"]),
            )
        except NotAllowed as exc:
            form.add_error(
                "photos" if isinstance(exc, repairs.PhotosNotAllowed) else None, str(exc)
            )
        else:
            messages.success(
                request,
                _("报修已提交（工单 %(number)s），请留意短信通知。") % {"number": repair.number},
            )
            return redirect("my-repair", repair_id=repair.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "tenancy/repair_new.html", {"form": form}, status=status)


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("还有什么问题"),
        max_length=repairs.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("请说明哪里还没有修好。")},
    )


def _detail(request: HttpRequest, repair: Repair, reopen: ReopenForm, status: int = 200):
    return render(
        request,
        "tenancy/repair_detail.html",
        {
            "repair": repair,
            "photos": repair.photos.order_by("added_at", "pk"),
            "reopen": reopen,
            "overdue": is_overdue(repair, timezone.now()),
            "auto_days": repairs.AUTO_CONFIRM_DAYS,
        },
        status=status,
    )


@applicant_required
def my_repair(request: HttpRequest, repair_id: int) -> HttpResponse:
    return _detail(request, _mine(request, repair_id), ReopenForm())


@applicant_required
@require_POST
def my_repair_confirm(request: HttpRequest, repair_id: int) -> HttpResponse:
    repair = _mine(request, repair_id)
    try:
        repairs.confirm(repair.pk, applicant=request.applicant)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("感谢确认，维修工单已完成。"))
    return redirect("my-repair", repair_id=repair.pk)


@applicant_required
@require_POST
def my_repair_reopen(request: HttpRequest, repair_id: int) -> HttpResponse:
    repair = _mine(request, repair_id)
    form = ReopenForm(request.POST)
    if form.is_valid():
        try:
            repairs.reopen(
                repair.pk, applicant=request.applicant, reason=form.cleaned_data["reason"]
            )
        except NotAllowed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已通知运营单位返修。"))
        return redirect("my-repair", repair_id=repair.pk)
    return _detail(request, repair, form, status=400)


def photo_response(
    request: HttpRequest, photo: RepairPhoto, applicant_id: int | None = None
) -> HttpResponse:
    """A kept photo, private to whoever the calling view let through (the view is logged)."""
    return documents.serve(request, photo.document, applicant_id=applicant_id)


@applicant_required
def my_repair_photo(request: HttpRequest, repair_id: int, photo_id: int) -> HttpResponse:
    repair = _mine(request, repair_id)
    photo = get_object_or_404(
        RepairPhoto.objects.select_related("document"), pk=photo_id, repair=repair
    )
    return photo_response(request, photo, applicant_id=request.applicant.pk)
