"""工作台: the start page. The user's pending work comes first, then the stock they keep."""

from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from backoffice.pending import pending_work
from backoffice.views import staff_required
from geo.jurisdiction import profile_of
from geo.models import Building, Estate, Unit


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """What waits for the user, with links to each list; then counts for their jurisdiction."""
    estates = Estate.objects.visible_to(request.user)
    units = Unit.objects.visible_to(request.user)
    by_status = dict(units.values_list("status").annotate(n=Count("id")).order_by())
    counts = estates.aggregate(total=Count("id"), published=Count("id", filter=Q(published=True)))
    work = pending_work(request.user)
    return render(
        request,
        "staff/home.html",
        {
            "work": work,
            "anything_open": any(t.count for s in work for t in s.tasks),
            "estates": counts,
            "buildings": Building.objects.visible_to(request.user).count(),
            "units_total": sum(by_status.values()),
            "by_status": [
                (code, label, by_status.get(code, 0)) for code, label in Unit.Status.choices
            ],
            "profile": profile_of(request.user),
        },
    )
