"""Public disclosure pages: notices with filters, a version with its list and history,
downloads, objections, and the policy / guide / hotline pages."""

import csv
import io
import tempfile
from pathlib import Path

import markdown
import nh3
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.client_ip import client_ip
from archive.ratelimit import Rate, hit
from disclosure import selectors, services
from disclosure.models import Attachment, Kind, Page, Publication
from exchange.spreadsheets import neutralize_row, xlsx_text_cells
from geo.data_select import DataSelect
from geo.map_base import base_config
from geo.models import Region

OBJECTIONS = Rate("objection-ip-hour", 5, 3600)
MARKDOWN_TAGS = {
    "p",
    "br",
    "h2",
    "h3",
    "h4",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "a",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
    "pre",
    "hr",
}


class NoticeFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("类别"), required=False, choices=[("", _("全部")), *Kind.choices]
    )
    county = forms.ChoiceField(label=_("区县"), required=False, widget=DataSelect)
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(label=_("关键词"), required=False, max_length=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        counties = Region.objects.filter(level=Region.Level.DISTRICT).values_list("adcode", "name")
        self.fields["county"].choices = [("", _("全部")), *counties]

    def filter(self) -> selectors.NoticeFilter:
        d = self.cleaned_data if self.is_valid() else {}
        return selectors.NoticeFilter(
            kind=d.get("kind") or "",
            county=d.get("county") or "",
            date_from=d.get("date_from"),
            date_to=d.get("date_to"),
            q=d.get("q") or "",
        )


def notice_list(request: HttpRequest) -> HttpResponse:
    form = NoticeFilterForm(request.GET or None)
    page = Paginator(selectors.notices(form.filter()), 20).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "disclosure/notice_list.html",
        {"form": form, "page": page, "page_query": params.urlencode()},
    )


def _version_or_404(series_id: int, number: int | None) -> Publication:
    try:
        return selectors.version(series_id, number)
    except Publication.DoesNotExist as exc:
        raise Http404(_("没有这份公开内容")) from exc


class ObjectionForm(forms.Form):
    item_key = forms.ChoiceField(label=_("对哪一项有异议"), widget=DataSelect)
    name = forms.CharField(label=_("您的姓名"), max_length=50)
    contact = forms.CharField(label=_("联系电话或邮箱"), max_length=50)
    reason = forms.CharField(
        label=_("异议理由"), widget=forms.Textarea(attrs={"rows": 4}), max_length=2000
    )

    def __init__(self, *args, publication: Publication, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item_key"].choices = [
            ("", _("请选择名单中的一项")),
            *((row["_key"], item_label(row, publication.columns)) for row in publication.items),
        ]


# Columns that tell a row apart for a reader; numbers (家庭人口, 序号) and the masked ID do not.
READABLE_KINDS = {"text", "name", "region"}


def item_label(row: dict, columns: list[dict], parts: int = 3) -> str:
    """A row as the objection list names it: its key once, then its name and place
    (2002C3CA · 袁*斌 · 胜利一村), all as published (already masked)."""
    key = str(row["_key"])
    label = [key]
    for column in columns:
        value = row.get(column["key"])
        if column.get("kind") in READABLE_KINDS and value not in (None, "") and str(value) != key:
            label.append(str(value))
        if len(label) == parts:
            break
    return " · ".join(label)


def notice_detail(request: HttpRequest, series_id: int, number: int | None = None) -> HttpResponse:
    publication = _version_or_404(series_id, number)
    versions = selectors.history(series_id)
    latest = versions[-1]
    q = request.GET.get("q", "").strip()
    sort = request.GET.get("sort", "")
    descending = request.GET.get("dir") == "desc"
    diff = None
    if publication.supersedes:
        diff = selectors.diff_items(
            publication.supersedes.items, publication.items, publication.columns
        )
    objection_form = ObjectionForm(publication=publication) if publication.in_publicity else None
    points = [
        {
            "lon": r["lon"],
            "lat": r["lat"],
            "label": f"{r.get('building', '')} {r.get('number', '')}",
        }
        for r in publication.items
        if isinstance(r.get("lon"), int | float) and isinstance(r.get("lat"), int | float)
    ]
    return render(
        request,
        "disclosure/notice_detail.html",
        {
            "publication": publication,
            "rows": selectors.filtered_items(publication, q, sort, descending),
            "q": q,
            "sort": sort,
            "descending": descending,
            "versions": versions,
            "is_latest": latest.version == publication.version,
            "latest": latest,
            "diff": diff,
            "objection_form": objection_form,
            "estate": selectors.released_estate(publication),
            "remaining": _remaining(publication),
            "map_points": points,
            # The base maps and our names, as on every map (the points are the notice's own).
            "map_base": base_config() if points else None,
        },
    )


def _remaining(publication: Publication) -> dict | None:
    """Days and hours left in the publicity period, for the countdown."""
    if not publication.in_publicity:
        return None
    left = publication.period_ends_at - timezone.now()
    return {"days": left.days, "hours": left.seconds // 3600}


@require_POST
def file_objection(request: HttpRequest, series_id: int, number: int) -> HttpResponse:
    publication = _version_or_404(series_id, number)
    ip = client_ip(request)
    url = reverse("notice-version", args=[series_id, number])
    form = ObjectionForm(request.POST, publication=publication)
    if not form.is_valid():
        messages.error(request, _("请完整填写异议内容。"))
        return redirect(url)
    if not hit(OBJECTIONS, ip):  # complete objections only: a fumbled form costs nothing
        messages.error(request, _("提交过于频繁，请一小时后再试。"))
        return redirect(url)
    try:
        services.file_objection(publication, ip=ip, **form.cleaned_data)
    except services.PublishError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("异议已提交，主管部门将核查处理。"))
    return redirect(url)


# --- downloads -------------------------------------------------------------------------------


def _filename(publication: Publication, suffix: str) -> str:
    return f"publication-{publication.series_id}-v{publication.version}.{suffix}"


def _disposition(name: str) -> str:
    return f"attachment; filename*=UTF-8''{name}"


def download_csv(request: HttpRequest, series_id: int, number: int) -> StreamingHttpResponse:
    """UTF-8 with a BOM, so Excel opens the Chinese text correctly; streamed row by row."""
    publication = _version_or_404(series_id, number)
    columns = publication.columns

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([c["label"] for c in columns])
        yield "\ufeff" + buffer.getvalue()
        for row in publication.items:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(
                neutralize_row(
                    "" if row.get(c["key"]) is None else row.get(c["key"]) for c in columns
                )
            )
            yield buffer.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _disposition(_filename(publication, "csv"))
    return response


def download_xlsx(request: HttpRequest, series_id: int, number: int) -> FileResponse:
    """Written row by row to a temporary file (openpyxl's write-only mode), then streamed."""
    from openpyxl import Workbook

    publication = _version_or_404(series_id, number)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=publication.get_kind_display())
    sheet.append([c["label"] for c in publication.columns])
    for row in publication.items:
        # Neutralized in the file only: the stored, hashed items stay as published.
        sheet.append(xlsx_text_cells(sheet, (row.get(c["key"]) for c in publication.columns)))
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it after streaming)
    book.save(spool)
    spool.seek(0)
    return FileResponse(
        spool,
        as_attachment=True,
        filename=_filename(publication, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def download_json(request: HttpRequest, series_id: int, number: int) -> HttpResponse:
    """The canonical document: `sha256sum` of this file is the published content hash."""
    publication = _version_or_404(series_id, number)
    response = HttpResponse(
        services.canonical_json(services.document_of(publication)),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = _disposition(_filename(publication, "json"))
    return response


def download_lottery(request: HttpRequest, series_id: int, number: int) -> HttpResponse:
    """A draw's inputs and order, for replaying it with RFC 3797 (hashed as part of the
    version's document, so this file cannot differ from what was published)."""
    publication = _version_or_404(series_id, number)
    lottery = (publication.data or {}).get("lottery")
    if lottery is None:
        raise Http404(_("这份公告没有摇号数据"))
    response = HttpResponse(
        services.canonical_json(lottery), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = _disposition(f"lottery-{series_id}-v{number}.json")
    return response


# --- policy, service guides, hotline ---------------------------------------------------------


def render_markdown(text: str) -> str:
    """Staff-written Markdown as HTML, with anything but plain formatting removed."""
    html = markdown.markdown(text or "", extensions=["tables"])
    return mark_safe(nh3.clean(html, tags=MARKDOWN_TAGS, link_rel="noopener noreferrer"))


def section_pages(request: HttpRequest, section: str) -> HttpResponse:
    if section not in Page.Section.values:
        raise Http404
    pages = Page.objects.filter(section=section, published=True).prefetch_related("attachments")
    return render(
        request,
        "disclosure/section.html",
        {
            "section": Page.Section(section),
            "pages": [(p, render_markdown(p.body)) for p in pages],
            "hotline": settings.ANJU_HOTLINE,
        },
    )


def attachment(request: HttpRequest, attachment_id: int) -> FileResponse:
    """Attachments of public pages, served by the application (no separate media server)."""
    item = get_object_or_404(Attachment, pk=attachment_id, page__published=True)
    return FileResponse(
        item.file.open("rb"), as_attachment=True, filename=Path(item.file.name).name
    )


def page_detail(request: HttpRequest, section: str, slug: str) -> HttpResponse:
    page = get_object_or_404(
        Page.objects.prefetch_related("attachments"), section=section, slug=slug, published=True
    )
    return render(
        request, "disclosure/page.html", {"page": page, "html": render_markdown(page.body)}
    )
