"""信息公开 in the back office: notices, corrections, vacancy releases, objections, pages.

Publishing goes through disclosure.services: an outbox row now, the publication by the worker.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from backoffice.views import staff_required
from disclosure import services
from disclosure.models import Attachment, Kind, Objection, Page, Publication
from geo.jurisdiction import may, region_scope
from geo.models import Estate, Region


def _require_publisher(request: HttpRequest) -> None:
    if not may(request.user, "can_publish"):
        raise PermissionDenied(_("只有住房保障部门可以发布公开内容。"))


def publishing_regions(user):
    """The city and counties whose lists the user publishes or watches."""
    return Region.objects.filter(region_scope(user)).filter(
        level__in=[Region.Level.CITY, Region.Level.DISTRICT]
    )


def _publications(user):
    return Publication.objects.filter(region__in=publishing_regions(user)).select_related("region")


@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    publications = _publications(request.user).current().defer("items", "region__boundary")
    page = Paginator(publications, 30).get_page(request.GET.get("page"))
    open_objections = Objection.objects.filter(
        publication__region__in=publishing_regions(request.user), status=Objection.Status.OPEN
    ).count()
    return render(
        request,
        "staff/publishing/overview.html",
        {
            "page": page,
            "open_objections": open_objections,
            "can_publish": may(request.user, "can_publish"),
        },
    )


class NoticeForm(forms.Form):
    region = forms.ModelChoiceField(label=_("发布区域"), queryset=Region.objects.none())
    title = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(label=_("正文"), widget=forms.Textarea(attrs={"rows": 8}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = publishing_regions(user).defer("boundary")


@staff_required
def notice_new(request: HttpRequest) -> HttpResponse:
    _require_publisher(request)
    form = NoticeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.enqueue_publication(
            kind=Kind.GENERAL_NOTICE,
            region=form.cleaned_data["region"],
            title=form.cleaned_data["title"],
            body=form.cleaned_data["body"],
            actor=request.user,
        )
        messages.success(request, _("已提交发布，稍后将出现在“公示公告”中。"))
        return redirect("publishing")
    return render(request, "staff/publishing/notice_form.html", {"form": form})


class CorrectionForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=200)
    body = forms.CharField(
        label=_("正文"), widget=forms.Textarea(attrs={"rows": 8}), required=False
    )
    reason = forms.CharField(label=_("更正原因"), widget=forms.Textarea(attrs={"rows": 2}))


@staff_required
def notice_correct(request: HttpRequest, publication_id: int) -> HttpResponse:
    """A correction is a new version naming the one it replaces and why; the list is kept."""
    publication = get_object_or_404(_publications(request.user).current(), pk=publication_id)
    _require_publisher(request)
    form = CorrectionForm(
        request.POST or None, initial={"title": publication.title, "body": publication.body}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.enqueue_publication(
                kind=publication.kind,
                region=publication.region,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                columns=publication.columns,
                rows=publication.items,
                masked=True,
                supersedes=publication,
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except services.PublishError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("更正已提交，将作为新版本发布，原版本保留。"))
            return redirect("publishing")
    return render(
        request, "staff/publishing/correction_form.html", {"form": form, "publication": publication}
    )


@staff_required
@require_POST
def release_vacancies(request: HttpRequest, estate_id: int) -> HttpResponse:
    estate = get_object_or_404(Estate.objects.visible_to(request.user), pk=estate_id)
    _require_publisher(request)
    try:
        services.release_vacancies(estate, actor=request.user)
    except services.PublishError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("房源发布已提交，稍后将出现在“公示公告”中。"))
    return redirect("asset-estate", estate_id=estate.pk)


class HandlingForm(forms.Form):
    sustained = forms.TypedChoiceField(
        label=_("结论"),
        choices=[("0", _("异议不成立")), ("1", _("异议成立"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    handling = forms.CharField(label=_("处理情况"), widget=forms.Textarea(attrs={"rows": 2}))


@staff_required
def objections(request: HttpRequest) -> HttpResponse:
    """The department's queue of objections to its publicity lists."""
    queue = (
        Objection.objects.filter(publication__region__in=publishing_regions(request.user))
        .select_related("publication", "handled_by")
        .defer("publication__items")
    )
    status = request.GET.get("status", Objection.Status.OPEN)
    if status:
        queue = queue.filter(status=status)
    if request.method == "POST":
        _require_publisher(request)
        objection = get_object_or_404(queue, pk=request.POST.get("objection"))
        form = HandlingForm(request.POST)
        if form.is_valid():
            try:
                services.handle_objection(objection.pk, actor=request.user, **form.cleaned_data)
            except services.PublishError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(request, _("处理结果已记录。"))
        else:
            messages.error(request, _("请填写结论和处理情况。"))
        return redirect(request.get_full_path())
    page = Paginator(queue, 30).get_page(request.GET.get("page"))
    # One form per open objection, with its own ids, so each label names its own field.
    can_handle = may(request.user, "can_publish")
    forms_ = {
        o.pk: HandlingForm(auto_id=f"o{o.pk}-%s")
        for o in page.object_list
        if can_handle and o.status == Objection.Status.OPEN
    }
    return render(
        request,
        "staff/publishing/objections.html",
        {
            "page": page,
            "rows": [(o, forms_.get(o.pk)) for o in page.object_list],
            "page_query": f"status={status}",
            "status": status,
            "statuses": Objection.Status.choices,
        },
    )


class PageForm(forms.ModelForm):
    class Meta:
        model = Page
        fields = ["section", "title", "slug", "body", "published", "ordering"]
        widgets = {"body": forms.Textarea(attrs={"rows": 14})}


class AttachmentForm(forms.ModelForm):
    class Meta:
        model = Attachment
        fields = ["title", "file"]


@staff_required
def pages(request: HttpRequest) -> HttpResponse:
    _require_publisher(request)
    return render(request, "staff/publishing/pages.html", {"pages": Page.objects.all()})


@staff_required
def page_edit(request: HttpRequest, page_id: int | None = None) -> HttpResponse:
    """Policies, guides and the hotline in Markdown (sanitized on display), with attachments."""
    _require_publisher(request)
    page = get_object_or_404(Page, pk=page_id) if page_id else Page()
    form = PageForm(request.POST or None, instance=page, prefix="page")
    upload = AttachmentForm(request.POST or None, request.FILES or None, prefix="file")
    if request.method == "POST" and form.is_valid():
        attachment = upload.save(commit=False) if request.FILES and upload.is_valid() else None
        saved = services.save_page(form.save(commit=False), attachment, actor=request.user)
        messages.success(request, _("页面已保存。"))
        return redirect("publishing-page-edit", page_id=saved.pk)
    return render(
        request, "staff/publishing/page_form.html", {"form": form, "upload": upload, "page": page}
    )
