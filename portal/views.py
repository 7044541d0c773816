"""Public pages: thin views over geo.selectors and the map builders."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from geo import selectors
from geo.models import Estate
from portal import maps


def home(request: HttpRequest) -> HttpResponse:
    """The map of estates with vacant units, and the same list as plain HTML beneath it."""
    estates = list(selectors.public_estates_with_vacancy())
    district_list = list(selectors.districts())
    figure = maps.city_map(estates, district_list)
    return render(
        request,
        "portal/home.html",
        {
            "map": figure,
            "estates": estates,
            "vacant_total": sum(e.vacant_count for e in estates),
        },
    )


def estate_detail(request: HttpRequest, estate_id: int) -> HttpResponse:
    try:
        estate = selectors.public_estate(estate_id)
    except Estate.DoesNotExist as exc:
        raise Http404 from exc
    units = list(selectors.estate_units(estate))
    buildings = list(estate.buildings.all())
    return render(
        request,
        "portal/estate_detail.html",
        {
            "estate": estate,
            "units": units,
            "vacant_units": [u for u in units if u.status == u.Status.VACANT],
            "summary": selectors.summarize_units(units),
            "map": maps.estate_map(estate, buildings),
        },
    )
