"""资产管理 · 存量数据校核: the stock-data faults in the user's jurisdiction before the national
standard export, counted per kind and per county, listed a page at a time with a link to the
page where each is fixed, and downloadable (insights.checks finds them).

The page costs a fixed handful of statements whatever the number of faults: one for the
counts, one server-side scan of the (encrypted) ID numbers, one for the page of rows.
"""

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from backoffice.exports import FORMATS, table_download
from backoffice.filters import parse_id, query_without
from backoffice.views import staff_required
from insights import checks

PAGE = 50


@dataclass
class _FaultList:
    """The faults in report order for the paginator: the set-based ones from the database
    (one statement per page), then the ID-number faults already found in Python."""

    sql: object  # the ordered union, or None
    sql_total: int
    python: list

    def count(self) -> int:
        return self.sql_total + len(self.python)

    def __getitem__(self, window: slice) -> list:
        start, stop = window.start or 0, window.stop
        rows = []
        if self.sql is not None and start < self.sql_total:
            rows = [checks.as_fault(r) for r in self.sql[start : min(stop, self.sql_total)]]
        if stop > self.sql_total:
            rows += self.python[max(0, start - self.sql_total) : stop - self.sql_total]
        return rows


def _filters(request: HttpRequest) -> tuple[str, int | None]:
    kind = request.GET.get("kind", "")
    return (kind if kind in checks.BY_CODE else ""), parse_id(request.GET.get("county", ""))


def _link(fault: checks.Fault) -> str:
    return reverse(fault.link, args=[fault.link_id])


@staff_required
def report(request: HttpRequest) -> HttpResponse:
    """The counts (per kind, per county) of the whole jurisdiction, the filtered list below."""
    scope = checks.Scope.of(request.user)
    kind, county = _filters(request)
    grid = checks.counts(scope)
    ids = checks.id_faults(scope)  # always: the counts at the top cover every kind
    id_counts: dict[tuple, int] = {}
    for fault in ids:
        key = (fault.county_id, fault.county)
        id_counts[key] = id_counts.get(key, 0) + 1
    grid += [("bad_id_number", c_id, c_name, n) for (c_id, c_name), n in id_counts.items()]

    per_kind = {k.code: 0 for k in checks.KINDS}
    per_county: dict[tuple, int] = {}
    for code, c_id, c_name, n in grid:
        per_kind[code] += n
        per_county[(c_id, c_name)] = per_county.get((c_id, c_name), 0) + n
    sql_total = sum(
        n
        for code, c_id, _name, n in grid
        if code not in checks.PYTHON_KINDS
        and (not kind or code == kind)
        and (not county or c_id == county)
    )
    python = [
        f for f in ids if (not kind or f.kind == kind) and (not county or f.county_id == county)
    ]
    sql = None if kind in checks.PYTHON_KINDS else checks.sql_faults(scope, kind, county)
    page = Paginator(_FaultList(sql, sql_total, python), PAGE).get_page(request.GET.get("page"))
    faults = [(f, _link(f)) for f in page.object_list]
    return render(
        request,
        "staff/data_checks/report.html",
        {
            "kinds": [(k, per_kind[k.code]) for k in checks.KINDS],
            "counties": sorted(per_county.items(), key=lambda item: item[0][1]),
            "total": sum(per_kind.values()),
            "kind": kind,
            "county": county,
            "page": page,
            "faults": faults,
            "page_query": query_without(request),
            "query": query_without(request),
            "export_url": reverse("data-checks-export"),
        },
    )


@staff_required
def export(request: HttpRequest) -> HttpResponse:
    """Every fault matching the filters as CSV or XLSX (cells cannot run as formulas)."""
    scope = checks.Scope.of(request.user)
    kind, county = _filters(request)
    fmt = request.GET.get("format", "xlsx")
    fmt = fmt if fmt in FORMATS else "xlsx"
    header = [str(h) for h in (_("类别"), _("对象"), _("县/区"), _("问题"), _("修改位置"))]
    rows = (
        [f.label, f.obj, f.county, f.problem, request.build_absolute_uri(_link(f))]
        for f in checks.all_faults(scope, kind, county)
    )
    return table_download(fmt, str(_("存量数据校核")), header, rows)
