"""档案管理 · 批量下载 in /staff/: choose estates, units, households or a period within one's
jurisdiction; a background job writes the ZIP; the page shows its progress and the link.

Only the requester (or a superuser) may download a ZIP; anyone else gets 404, and after its
expiry the link answers 410 saying so. The work is in insights/batches.py.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from backoffice.views import staff_required
from geo.jurisdiction import estate_scope
from geo.models import Estate
from insights import batches
from insights.models import BatchDownload

RECENT = 20
ACTIVE_LIMIT = 3  # queued or running batches one person may have at once
ACTIVE = [BatchDownload.Status.QUEUED, BatchDownload.Status.RUNNING]


class IdsField(forms.Field):
    """Estate ids from a multi-select; whether each is the user's is judged by resolve(), which
    names the wrong ones (a choice field would only say "not a valid choice")."""

    widget = forms.SelectMultiple

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        wrong = [
            str(v)[:20]
            for v in values
            if not (str(v).isascii() and str(v).isdigit()) or len(str(v)) > 12
        ]
        if wrong:
            raise ValidationError(_("无法识别的项目编号：%(ids)s。") % {"ids": "、".join(wrong)})
        return [int(v) for v in values]


class BatchForm(forms.Form):
    estates = IdsField(label=_("项目（可多选）"), required=False)
    units = forms.CharField(
        label=_("房屋"),
        required=False,
        max_length=60_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一套：房屋编号，或“项目 楼栋 房号”，如“兴业苑 1号楼 101”。"),
    )
    households = forms.CharField(
        label=_("家庭（公示编号）"),
        required=False,
        max_length=30_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一个公示编号。"),
    )
    since = forms.DateField(
        label=_("时间段：自"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("至"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        estates = Estate.objects.filter(estate_scope(user)).order_by("name").only("pk", "name")
        self.fields["estates"].widget.choices = [(e.pk, e.name) for e in estates]
        self.fields["estates"].widget.attrs["size"] = 8
        self.selection: batches.Selection | None = None

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            self.selection = batches.resolve(
                self.user,
                estate_ids=data.get("estates") or [],
                unit_lines=data.get("units", ""),
                household_lines=data.get("households", ""),
                since=data.get("since"),
                until=data.get("until"),
            )
        except batches.BatchError as exc:
            raise ValidationError(exc.problems) from None
        return data


def _mine(user):
    """The batches a user may see and download: their own; a superuser's view is the same."""
    return BatchDownload.objects.filter(requested_by=user)


def _downloadable(user, batch_id: int) -> BatchDownload:
    batch = get_object_or_404(BatchDownload, pk=batch_id)
    if batch.requested_by_id != user.pk and not user.is_superuser:
        raise Http404
    return batch


@staff_required
def batch_list(request: HttpRequest) -> HttpResponse:
    """The request form and one's recent batches with their progress."""
    form = BatchForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        if _mine(request.user).filter(status__in=ACTIVE).count() >= ACTIVE_LIMIT:
            form.add_error(
                None,
                _("您已有 %(n)s 个批量下载正在排队或生成，请等待完成后再申请。")
                % {"n": ACTIVE_LIMIT},
            )
        else:
            batch = batches.request_batch(form.selection, actor=request.user)
            messages.success(
                request,
                _("已申请批量下载（%(n)s 个目录），后台生成完成后可在下方下载。")
                % {"n": batch.total_folders},
            )
            return redirect("archive-batches")
    recent = list(_mine(request.user).order_by("-created_at", "-id")[:RECENT])
    for batch in recent:
        batch.expired = batches.is_expired(batch)
    return render(
        request,
        "staff/archives/batches/list.html",
        {
            "form": form,
            "batches": recent,
            "expiry_hours": settings.ANJU_BATCH_EXPIRY_HOURS,
            "active": [BatchDownload.Status.QUEUED.value, BatchDownload.Status.RUNNING.value],
        },
    )


@staff_required
def batch_status(request: HttpRequest, batch_id: int) -> JsonResponse:
    """Progress for the page's script (polling), for the requester only."""
    batch = _downloadable(request.user, batch_id)
    done = batch.status == BatchDownload.Status.DONE and not batches.is_expired(batch)
    response = JsonResponse(
        {
            "status": batch.status,
            "label": str(batch.get_status_display()),
            "done": batch.done_folders,
            "total": batch.total_folders,
            "percent": batch.percent,
            "bytes": batch.bytes_written,
            "error": batch.error,
            "download": reverse("archive-batch-download", args=[batch.pk]) if done else "",
        }
    )
    response["Cache-Control"] = "private, no-store"
    return response


@staff_required
def batch_download(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The ZIP, streamed from disk; 410 once it has expired."""
    batch = _downloadable(request.user, batch_id)
    if batches.is_expired(batch):
        return render(request, "staff/archives/batches/gone.html", {"batch": batch}, status=410)
    if batch.status != BatchDownload.Status.DONE:
        raise Http404(_("该批量下载尚未生成完成。"))
    try:
        handle = open(batches.zip_file(batch), "rb")  # noqa: SIM115 (FileResponse closes it)
    except FileNotFoundError:
        raise Http404(_("压缩包已不在服务器上。")) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"档案批量下载_{batch.pk}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
