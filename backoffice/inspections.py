"""入户巡查 (phone-first): a grid worker lists the occupied units of their community, those not
visited for longest first, and records a visit at the door; a suspected violation opens a case.

Units come through geo.jurisdiction.estate_scope: a grid worker sees their community only, a
street its streets' estates, an operator its estates; anything else is a 404.
"""

from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, Max, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.filters import parse_id, query_without, visible_estates
from backoffice.views import staff_required
from geo.models import Unit
from housing.errors import NotAllowed
from tenancy.models import Contract, Inspection, ViolationKind
from tenancy.services import inspections, violations

if TYPE_CHECKING:
    from backoffice.pending import Task

PAGE = 30
# A let unit is due a visit when none was recorded for this long (a round twice a year).
VISIT_EVERY = timedelta(days=180)


def _tenant_units(user):
    """Let units in the user's jurisdiction, each with its last visit and its tenant."""
    live = Contract.objects.filter(unit=OuterRef("pk"), status=Contract.Status.ACTIVE)
    return (
        inspections.units_for(user)
        .filter(status=Unit.Status.OCCUPIED)
        .annotate(
            last_visit=Max("inspections__visited_on"),
            tenant=Subquery(live.values("household__head_name")[:1]),
        )
        .select_related("building__estate")
    )


@staff_required
def unit_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    units = _tenant_units(request.user)
    estate = parse_id(request.GET.get("estate", ""))
    if estate:
        units = units.filter(building__estate_id=estate)
    due = request.GET.get("due") == "1"
    if due:
        units = units.filter(Q(last_visit__isnull=True) | Q(last_visit__lt=today - VISIT_EVERY))
    q = request.GET.get("q", "").strip()[:20]
    if q:
        units = units.filter(Q(number__startswith=q) | Q(building__number__startswith=q))
    units = units.order_by(
        F("last_visit").asc(nulls_first=True),  # never visited first, then the longest ago
        "building__estate__name",
        "building__number",
        "floor",
        "number",
    )
    page = Paginator(units, PAGE).get_page(request.GET.get("page"))
    recent = (
        inspections.inspections_for(request.user)
        .select_related("unit__building__estate", "suspected", "inspector")
        .order_by("-visited_on", "-pk")[:10]
    )
    return render(
        request,
        "staff/inspections/units.html",
        {
            "page": page,
            "page_query": query_without(request),
            "estates": visible_estates(request.user),
            "estate": estate,
            "due": due,
            "q": q,
            "recent": recent,
            "due_before": today - VISIT_EVERY,
        },
    )


@staff_required
def visit(request: HttpRequest, unit_id: int) -> HttpResponse:
    """The visit form for one unit, and its earlier visits."""
    unit = get_object_or_404(
        inspections.units_for(request.user).select_related("building__estate"), pk=unit_id
    )
    today = timezone.localdate()
    data = request.POST if request.method == "POST" else {}
    error = ""
    if request.method == "POST":
        try:
            visited_on = date.fromisoformat(data.get("visited_on", "") or today.isoformat())
        except ValueError:
            error = _("巡查日期：日期格式有误。")
        present = data.get("occupant_present")
        if not error and present not in ("yes", "no"):
            error = _("有人居住：请选择“是”或“否”。")
        if not error:
            try:
                uploads = request.FILES.getlist("photos")
                if len(uploads) > violations.MAX_PHOTOS:
                    raise NotAllowed(f"一次最多上传 {violations.MAX_PHOTOS} 张照片。")
                inspection = inspections.record_visit(
                    unit_id=unit.pk,
                    visited_on=visited_on,
                    occupant_present=present == "yes",
                    answered_by=data.get("answered_by", ""),
                    notes=data.get("notes", ""),
                    suspected_code=data.get("suspected", ""),
                    photos=[(u.name, u.read(8 * 1024 * 1024 + 1)) for u in uploads],
                    actor=request.user,
                )
            except NotAllowed as exc:
                error = str(exc)
            else:
                if inspection.case_id:
                    messages.success(
                        request,
                        _("巡查已记录，疑似违规已立案（案件 %(n)s）。") % {"n": inspection.case_id},
                    )
                else:
                    messages.success(request, _("巡查已记录。"))
                return redirect("inspections")
    contract = (
        Contract.objects.filter(unit=unit, status=Contract.Status.ACTIVE)
        .select_related("household")
        .first()
    )
    return render(
        request,
        "staff/inspections/visit.html",
        {
            "unit": unit,
            "contract": contract,
            "history": Inspection.objects.filter(unit=unit)
            .select_related("suspected", "inspector")
            .order_by("-visited_on", "-pk")[:10],
            "kinds": ViolationKind.objects.filter(active=True),
            "answers": Inspection.Answered.choices,
            "data": data,
            "error": error,
            "today": today,
        },
    )


def pending_tasks(user) -> list["Task"]:
    """For grid workers: the let units of their community due a visit (others: nothing)."""
    from backoffice.pending import Task  # pending imports this module to list the tasks
    from geo.jurisdiction import profile_of

    profile = profile_of(user)
    if profile is None or profile.role != "community":
        return []
    today = timezone.localdate()
    due = (
        _tenant_units(user)
        .filter(Q(last_visit__isnull=True) | Q(last_visit__lt=today - VISIT_EVERY))
        .order_by()
        .count()
    )
    return [Task(_("待入户巡查的房屋（半年内未巡查）"), due, reverse("inspections") + "?due=1")]
