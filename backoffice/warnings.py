"""自动预警's centre: counts per rule, filters in the URL (rule, status, county), the
warnings of the viewer's jurisdiction with a link to where each is handled, and the
acknowledge and resolve actions (insights.warnings.services records their archive events)."""

import re

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_POST

from backoffice.statistics import counties_for
from backoffice.views import staff_required
from geo.models import Region
from insights.models import Warning
from insights.statistics import DASHBOARDS
from insights.warnings import services
from insights.warnings.rules import RulesError, load_rules

PAGE = 50
ADCODE = re.compile(r"^[0-9]{6}$")
STATUSES = {
    "live": gettext_lazy("未解除"),
    "open": Warning.Status.OPEN.label,
    "acknowledged": Warning.Status.ACKNOWLEDGED.label,
    "resolved": Warning.Status.RESOLVED.label,
    "all": gettext_lazy("全部"),
}
SEVERITY = {
    "high": pgettext_lazy("severity", "高"),
    "medium": pgettext_lazy("severity", "中"),
    "low": pgettext_lazy("severity", "低"),
}


def link_for(w: Warning) -> str:
    """The staff page where the warning's case is handled (no query: ids are on the row)."""
    kind, pk = w.subject_kind, w.subject_id
    if w.rule == "arrears":
        return reverse("rent-arrears") + (f"?estate={w.estate_id}" if w.estate_id else "")
    if w.rule == "repeated_complaints":
        return reverse("violation-complaints")
    if kind == "application":
        return reverse("review-detail", args=[pk])
    if kind == "offer":
        return reverse("allocation-round", args=[w.anchor_id]) + "#board"
    if kind == "contract":
        return reverse("contract-detail", args=[pk])
    if kind == "unit":
        return reverse("asset-unit", args=[pk])
    if kind == "recheck_hit":
        return reverse("recheck-hit", args=[pk])
    if kind == "annual_review":
        return reverse("annual-review", args=[pk])
    if kind == "publication":
        return reverse("publishing-objections")
    return ""


@staff_required
def centre(request: HttpRequest) -> HttpResponse:
    try:
        rules = load_rules()
    except RulesError as exc:
        return render(request, "staff/warnings/centre.html", {"rules_error": str(exc)}, status=503)
    errors = []
    scope = Warning.objects.visible_to(request.user)
    status = request.GET.get("status", "live")
    if status not in STATUSES:
        errors.append(_("状态“%(v)s”无法识别，已显示未解除的预警。") % {"v": status[:20]})
        status = "live"
    if status == "live":
        scope = scope.live()
    elif status != "all":
        scope = scope.filter(status=status)
    counties = counties_for(request.user)
    county = _county(request.GET.get("county", "").strip(), counties, errors)
    if county is not None:
        scope = scope.filter(county=county)
    counts = dict(scope.values_list("rule").annotate(n=Count("pk")).order_by())
    rule = request.GET.get("rule", "")
    if rule and rule not in rules:
        errors.append(_("没有代码为“%(v)s”的预警规则。") % {"v": rule[:40]})
        rule = ""
    listed = scope.filter(rule=rule) if rule else scope
    page = Paginator(
        listed.select_related("county", "estate", "acknowledged_by", "resolved_by").order_by(
            "-last_seen_at", "-pk"
        ),
        PAGE,
    ).get_page(request.GET.get("page"))
    for w in page.object_list:
        w.link = link_for(w)
        w.rule_name = rules[w.rule].name if w.rule in rules else w.rule
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "staff/warnings/centre.html",
        {
            "rules": [
                {
                    "code": r.code,
                    "name": r.name,
                    "enabled": r.enabled,
                    "severity": SEVERITY[r.severity],
                    "n": counts.get(r.code, 0),
                }
                for r in rules.values()
            ],
            "total": sum(counts.values()),
            "page": page,
            "rule": rule,
            "status": status,
            "statuses": list(STATUSES.items()),
            "counties": counties,
            "county": county,
            "errors": errors,
            "page_query": query.urlencode(),
            "here": request.get_full_path(),
            "dashboards": list(DASHBOARDS.values()),
            "section": "warnings",
            "entry": {"slug": "warnings"},
        },
    )


def _county(code: str, counties: list[Region], errors: list[str]) -> Region | None:
    """A county the viewer may see; another county's code is a 404, a malformed one a note."""
    if not code:
        return None
    if not ADCODE.match(code):
        errors.append(_("区县代码应为 6 位数字（如 341602）；收到的是“%(v)s”。") % {"v": code[:20]})
        return None
    county = next((c for c in counties if c.adcode == code), None)
    if county is None:
        if Region.objects.filter(adcode=code, level=Region.Level.DISTRICT).exists():
            raise Http404
        errors.append(_("没有代码为 %(code)s 的区县。") % {"code": code})
    return county


@require_POST
@staff_required
def act(request: HttpRequest, warning_id: int, action: str) -> HttpResponse:
    """确认 or 解除 (with a note); a warning outside the viewer's jurisdiction is a 404."""
    if action not in ("acknowledge", "resolve"):
        raise Http404
    warning = get_object_or_404(Warning.objects.visible_to(request.user), pk=warning_id)
    try:
        if action == "acknowledge":
            services.acknowledge(warning.pk, actor=request.user)
            messages.success(request, _("已确认该预警。"))
        else:
            services.resolve(warning.pk, request.POST.get("note", ""), actor=request.user)
            messages.success(request, _("已解除该预警。"))
    except services.WarningError as exc:
        messages.error(request, str(exc))
    back = request.POST.get("next", "")
    return redirect(back if back.startswith(reverse("warnings")) else reverse("warnings"))
