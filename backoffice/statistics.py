"""统计分析: the dashboards of insights.statistics, scoped to the viewer's jurisdiction.

Filters live in the URL (`?county=<adcode>&from=YYYY-MM&to=YYYY-MM`, the last 12 months by
default) so a view can be shared; a county outside the viewer's area is a 404, a malformed
filter a Chinese message. `?format=xlsx` downloads the dashboard's tables, one sheet each,
through exchange.spreadsheets so no cell runs as a formula.
"""

import re
from datetime import date
from urllib.parse import quote

from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from backoffice.views import staff_required
from exchange.spreadsheets import xlsx_text_cells
from geo.jurisdiction import profile_of, region_scope
from geo.models import Estate, Region
from insights.statistics import DASHBOARDS, Period, Scope
from insights.statistics.base import MAX_MONTHS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")
ADCODE = re.compile(r"^[0-9]{6}$")


class FilterError(ValueError):
    """A filter the page cannot use; the message says which and how to write it."""


def counties_for(user) -> list[Region]:
    """The counties a viewer may pick: those in their region, or where their operator runs
    estates; every county for a superuser."""
    districts = Region.objects.filter(level=Region.Level.DISTRICT)
    if user.is_superuser:
        return list(districts)
    profile = profile_of(user)
    if profile is not None and profile.operator_id:
        return list(
            districts.filter(
                pk__in=Estate.objects.filter(operator_id=profile.operator_id).values("district")
            )
        )
    region = profile.region if profile is not None else None
    if region is not None and region.level in (Region.Level.STREET, Region.Level.COMMUNITY):
        # A street or community sees its own part of the county it lies in.
        return list(
            districts.filter(Q(pk=region.parent_id) | Q(children__pk=region.parent_id)).distinct()
        )
    return list(districts.filter(region_scope(user)))


def _month(text: str, name: str) -> date:
    match = MONTH.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1900:
        raise FilterError(
            _("“%(name)s”应为年月，例如 2026-01；收到的是“%(value)s”。")
            % {"name": name, "value": text[:20]}
        )
    return date(int(match.group(1)), int(match.group(2)), 1)


def read_filters(request: HttpRequest, counties: list[Region]) -> tuple[Region | None, Period]:
    """The county and the period the URL asks for. A well-formed county code outside the
    viewer's counties raises Http404 (it "does not exist" for them)."""
    default = Period.default(timezone.localdate())
    first_text = request.GET.get("from", "").strip()
    last_text = request.GET.get("to", "").strip()
    first = _month(first_text, _("起始月份")) if first_text else None
    last = _month(last_text, _("截止月份")) if last_text else default.last
    if first is None:
        first = Period.default(last).first
    if first > last:
        raise FilterError(_("起始月份不能晚于截止月份。"))
    period = Period(first, last)
    if len(period.months()) > MAX_MONTHS:
        raise FilterError(_("统计期最长 %(n)s 个月，请缩短。") % {"n": MAX_MONTHS})
    code = request.GET.get("county", "").strip()
    if not code:
        return None, period
    if not ADCODE.match(code):
        raise FilterError(
            _("区县代码应为 6 位数字（如 341602）；收到的是“%(value)s”。") % {"value": code[:20]}
        )
    county = next((c for c in counties if c.adcode == code), None)
    if county is None:
        if Region.objects.filter(adcode=code, level=Region.Level.DISTRICT).exists():
            raise Http404
        raise FilterError(_("没有代码为 %(code)s 的区县。") % {"code": code})
    return county, period


def _context(request: HttpRequest) -> tuple[dict, Region | None, Period | None]:
    counties = counties_for(request.user)
    error = ""
    try:
        county, period = read_filters(request, counties)
    except FilterError as exc:
        county, period, error = None, None, str(exc)
    shown = period or Period.default(timezone.localdate())
    params = request.GET.copy()
    params.pop("format", None)
    return (
        {
            "counties": counties,
            "county": county,
            "period": shown,
            "error": error,
            "query": params.urlencode(),
            "dashboards": list(DASHBOARDS.values()),
        },
        county,
        period,
    )


@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    """One card per dashboard, the filters carried along."""
    context, _county, period = _context(request)
    return render(
        request,
        "staff/statistics/overview.html",
        context,
        status=400 if period is None else 200,
    )


@staff_required
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    entry = DASHBOARDS.get(slug)
    if entry is None:
        raise Http404
    context, county, period = _context(request)
    if period is None:
        return render(
            request, "staff/statistics/dashboard.html", context | {"entry": entry}, status=400
        )
    scope = Scope(request.user, county)
    if request.GET.get("format") == "xlsx":
        if slug == "vacancy":
            from insights.statistics.stock import vacancy

            return _xlsx(vacancy(scope, period, all_estates=True), county, period)
        return _xlsx(entry.build(scope, period), county, period)
    board = entry.build(scope, period)
    return render(
        request,
        "staff/statistics/dashboard.html",
        context
        | {
            "entry": entry,
            "board": board,
            "charts": [t.chart_data() for t in board.tables if t.chart],
        },
    )


def _xlsx(board, county: Region | None, period: Period) -> HttpResponse:
    """Every table of the dashboard as a sheet, under a line saying what it covers."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    where = county.name if county else _("全部所辖区县")
    for table in board.tables:
        sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", table.title)[:31])
        sheet.append(xlsx_text_cells(sheet, [board.title, where, period.label()]))
        sheet.append(xlsx_text_cells(sheet, table.columns))
        for row in table.rows:
            sheet.append(xlsx_text_cells(sheet, row))
    response = HttpResponse(content_type=XLSX)
    book.save(response)
    name = f"{board.title}-{period.first:%Y%m}-{period.last:%Y%m}.xlsx"
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
