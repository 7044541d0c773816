"""档案管理 · 贯标导出: the national data standard's tables in the user's jurisdiction, their
downloads (XLSX, CSV, JSON, by data/standard/mapping.json) and the mapping-fault report, each
fault with a link to the page that fixes it (insights.standard does the work).

Every staff member sees the counts and the faults of their area; only the housing departments
(`can_publish`: city and county) download the tables, which carry ID numbers and phones in
full as the standard requires.
"""

import tempfile
from urllib.parse import quote

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.services import record_access
from backoffice.views import staff_required
from geo.jurisdiction import may, region_scope
from geo.models import Region
from insights.standard import mapping as standard_mapping
from insights.standard.records import count
from insights.standard.report import iter_faults, scan
from insights.standard.writers import FORMATS, Export

PAGE = 50
KEEP = 2000  # faults kept for the page's list; the download has them all
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _county(request: HttpRequest) -> Region | None:
    """The county chosen (?county=<adcode>), which must lie in the user's area (else 404)."""
    code = request.GET.get("county", "")
    if not code:
        return None
    county = Region.objects.filter(
        region_scope(request.user), level=Region.Level.DISTRICT, adcode=code
    ).first()
    if county is None:
        raise Http404(_("没有这个县/区，或不在您的管辖范围内。"))
    return county


def _mapping():
    try:
        return standard_mapping.load()
    except standard_mapping.MappingError as exc:
        raise Http404(str(exc)) from exc


def _filename(stem: str, ext: str) -> str:
    name = f"{stem}-{timezone.localdate():%Y%m%d}.{ext}"
    return f"attachment; filename*=UTF-8''{quote(name)}"


@staff_required
def page(request: HttpRequest) -> HttpResponse:
    """Row counts per table, the downloads, and the faults counted per county and kind."""
    mapping = _mapping()
    county = _county(request)
    county_id = county.pk if county else None
    groups = [
        (g, [(t, count(t, request.user, county_id)) for t in g.tables]) for g in mapping.groups
    ]
    report = scan(mapping, mapping.tables(), request.user, county_id, keep=KEEP)
    listing = Paginator(report.kept, PAGE).get_page(request.GET.get("page"))
    query = f"county={county.adcode}" if county else ""
    return render(
        request,
        "staff/standard/page.html",
        {
            "mapping": mapping,
            "groups": groups,
            "county": county,
            "counties": Region.objects.filter(
                region_scope(request.user), level=Region.Level.DISTRICT
            ).order_by("adcode"),
            "report": report,
            "per_county": sorted(report.per_county.items(), key=lambda i: i[0][1]),
            "per_kind": sorted(report.per_kind.items()),
            "page": listing,
            "faults": [(f, f.url()) for f in listing.object_list],
            "page_query": query,
            "query": query,
            "formats": FORMATS,
            "may_download": may(request.user, "can_publish"),
        },
    )


@staff_required
def download(request: HttpRequest) -> HttpResponse:
    """The tables (all, or one group) in the chosen format, streamed."""
    if not may(request.user, "can_publish"):
        raise PermissionDenied(_("只有市、县住房保障部门可以下载贯标数据（含完整身份证号）。"))
    mapping = _mapping()
    county = _county(request)
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        raise Http404(_("没有这种下载格式。"))
    group = request.GET.get("group", "")
    if group and mapping.group(group) is None:
        raise Http404(_("没有这个数据组。"))
    run = Export(
        mapping, mapping.tables([group] if group else None), request.user, county and county.pk
    )
    record_access(request, "standard_export", county.pk if county else 0)
    stem = f"贯标-{group or 'all'}{'-' + county.adcode if county else ''}"
    if fmt == "json":
        response = StreamingHttpResponse(
            (chunk.encode("utf-8") for chunk in run.json_chunks()),
            content_type="application/json; charset=utf-8",
        )
    else:
        # A zip or a workbook is written to a temporary file first (fine for a county), then
        # streamed from it; the file goes away when the response is closed.
        spool = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it)
        (run.write_csv_zip if fmt == "csv" else run.write_xlsx)(spool)
        spool.seek(0)
        response = FileResponse(spool, content_type="application/zip" if fmt == "csv" else XLSX)
        fmt = "zip" if fmt == "csv" else fmt
    response["Content-Disposition"] = _filename(stem, fmt)
    return response


@staff_required
def faults(request: HttpRequest) -> HttpResponse:
    """Every mapping fault of the user's area (or one county) as CSV, streamed."""
    import csv
    import io

    from exchange.spreadsheets import neutralize_row

    mapping = _mapping()
    county = _county(request)
    header = [_("表"), _("记录"), _("县/区"), _("字段"), _("问题类别"), _("问题"), _("修改位置")]

    def lines():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")
        writer.writerow([str(h) for h in header])
        for n, f in enumerate(
            iter_faults(mapping, mapping.tables(), request.user, county and county.pk), start=1
        ):
            where = request.build_absolute_uri(f.url()) if f.link else f.hint
            row = [f.table_name, f.record, f.county, f.field_name, f.kind_label, f.problem, where]
            writer.writerow(neutralize_row(row))
            if n % 500 == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _filename("贯标映射校核", "csv")
    return response
