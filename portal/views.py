"""Public pages: thin views over geo selectors, the vacancy search and the map builders."""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from geo import selectors, summaries
from geo.locate import locate
from geo.models import Estate
from geo.nearby import nearby_pois
from geo.search import search_example, search_places
from geo.unit_pages import UNIT_ROW_COLUMNS, UnitPages
from geo.vacancy import parse_vacancy_query
from layers.api import EstateSerializer
from layers.public_cache import public_page
from portal import labels, maps

UNITS_PER_PAGE = 50
TEXT_SIZE_COOKIE = "text_size"


@public_page
def home(request: HttpRequest) -> HttpResponse:
    """The map of estates with matching vacant units, and the same list as plain HTML."""
    query, form = parse_vacancy_query(request.GET)
    form.add_region_choices()
    limit = settings.ANJU_MAP_MARKER_LIMIT
    estates_qs = summaries.vacancy_estates(query)
    if estates_qs is not None:
        # One aggregate over summary rows decides markers or tiles and gives the totals.
        totals = summaries.vacancy_totals(query)
        tiles = totals["estates"] > limit
        estates = list(estates_qs[: settings.HOME_LIST_LIMIT if tiles else limit])
    else:
        estates_qs = selectors.vacancy_estates(query).only(*summaries.ESTATE_COLUMNS)
        estates = list(estates_qs[: limit + 1])
        # A province has too many estates for one marker each: draw vector tiles instead, list
        # the first ones, count them all.
        tiles = len(estates) > limit
        if tiles:
            estates = estates[: settings.HOME_LIST_LIMIT]
            totals = selectors.vacancy_totals(query)
        else:
            totals = {"estates": len(estates), "units": sum(e.vacant_count for e in estates)}
    return render(
        request,
        "portal/home.html",
        {
            "form": form,
            "query": query,
            "estates": estates,
            "estates_geojson": None if tiles else EstateSerializer(estates, many=True).data,
            "tiles": tiles,
            "vacant_total": totals["units"],
            "estate_total": totals["estates"],
            "map": maps.city_map(),
            "units_url": "/units/?" + urlencode(query.as_params()),
            "api_query": urlencode(query.as_params()),
        },
    )


@public_page
def units(request: HttpRequest) -> HttpResponse:
    """The vacancy search as a server-rendered list: works without JavaScript."""
    query, form = parse_vacancy_query(request.GET)
    form.add_region_choices()
    page = Paginator(UnitPages(query), UNITS_PER_PAGE).get_page(request.GET.get("page"))
    labels.label_units(page.object_list)
    params = query.as_params()
    return render(
        request,
        "portal/units.html",
        {"form": form, "query": query, "page": page, "page_query": urlencode(params)},
    )


@public_page
def estate_detail(request: HttpRequest, estate_id: int) -> HttpResponse:
    try:
        estate = selectors.public_estate(estate_id)
    except Estate.DoesNotExist as exc:
        raise Http404 from exc
    query, form = parse_vacancy_query(request.GET)
    vacant = list(selectors.estate_units(estate).filter(query.unit_q()).only(*UNIT_ROW_COLUMNS))
    labels.label_units(vacant)
    buildings = list(
        estate.buildings.only(
            "id", "estate_id", "number", "floors", "elevator", "footprint", "position"
        )
    )
    return render(
        request,
        "portal/estate_detail.html",
        {
            "estate": estate,
            "form": form,
            "filtered": bool(query.as_params()),
            "vacant_units": vacant,
            "summary": labels.summary_for_page(summaries.estate_summary(estate)),
            "pois": nearby_pois(estate),
            "map": maps.estate_map(estate, buildings),
        },
    )


@public_page
def search(request: HttpRequest) -> HttpResponse:
    """Search results as a page, for visitors without JavaScript or who press Enter."""
    text = request.GET.get("q", "").strip()
    hits = search_places(text, 30)
    example = search_example() if text and not hits else None
    return render(request, "portal/search.html", {"q": text, "hits": hits, "example": example})


def locate_page(request: HttpRequest) -> HttpResponse:
    """Typed coordinates (or a shared link): where the point is and what is vacant nearby."""
    error, result = None, None
    raw = request.GET.get("at", "").replace("，", ",").strip()
    if raw:
        try:
            lon, lat = (float(v) for v in raw.split(","))
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError
            result = locate(lon, lat)
        except ValueError:
            error = _("请输入“经度,纬度”，例如 115.78,33.85")
    return render(request, "portal/locate.html", {"at": raw, "result": result, "error": error})


@require_POST
def text_size(request: HttpRequest) -> HttpResponse:
    """Large-text mode (适老化), kept in a cookie so it persists across visits."""
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = "/"
    response = HttpResponseRedirect(target)
    if request.POST.get("size") == "large":
        response.set_cookie(TEXT_SIZE_COOKIE, "large", max_age=365 * 24 * 3600, samesite="Lax")
    else:
        response.delete_cookie(TEXT_SIZE_COOKIE)
    return response
