"""档案管理 in /staff/: find a unit or a household, read its 一房一档 / 一户一档, open its files.

Every file view or download is logged (archive.models.FileAccess) and each opened household
file is an access record; outside one's jurisdiction a file "does not exist" (404).
"""

from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from archive import chain, documents
from archive.models import Document, FileAccess
from archive.services import record_access
from backoffice.views import staff_required
from geo.jurisdiction import estate_scope
from geo.models import Estate
from insights import dossiers

PAGE = 20
IMAGES = {"image/jpeg", "image/png"}


def _estates(user):
    return Estate.objects.filter(estate_scope(user)).order_by("name").only("pk", "name")


@staff_required
def index(request: HttpRequest) -> HttpResponse:
    """Two searches (units by estate, building and number; households by key, number or name)
    and the other archive tools."""
    estates = _estates(request.user)
    units = households = None
    estate_id = request.GET.get("estate", "")
    q = request.GET.get("q", "").strip()[:50]
    error = ""
    if estate_id:
        if not estate_id.isdigit() or not estates.filter(pk=estate_id).exists():
            error = _("请选择您辖区内的项目。")
        else:
            found = dossiers.units_in_scope(request.user).filter(building__estate_id=estate_id)
            building = request.GET.get("building", "").strip()[:20]
            number = request.GET.get("unit", "").strip()[:20]
            if building:
                found = found.filter(building__number__icontains=building)
            if number:
                found = found.filter(number__icontains=number)
            units = Paginator(
                found.select_related("building__estate").order_by(
                    "building__number", "floor", "number"
                ),
                PAGE,
            ).get_page(request.GET.get("page"))
    elif q:
        found = dossiers.households_in_scope(request.user).filter(
            Q(public_key=q.upper()) | Q(application__number=q.upper()) | Q(head_name__contains=q)
        )
        households = Paginator(
            found.select_related("county", "application").order_by("-approved_at", "pk"), PAGE
        ).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/archives/index.html",
        {
            "estates": estates,
            "estate_id": estate_id,
            "building": request.GET.get("building", ""),
            "unit": request.GET.get("unit", ""),
            "q": q,
            "units": units,
            "households": households,
            "error": error,
            "page_query": _without_page(request),
            "chain": chain.status(),
        },
    )


def _without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _page(request: HttpRequest, dossier: dossiers.Dossier) -> HttpResponse:
    counts = dict(
        FileAccess.objects.filter(document__in=[f.document.pk for f in dossier.files])
        .values_list("document")
        .annotate(n=Count("pk"))
    )
    files = [(f, counts.get(f.document.pk, 0)) for f in dossier.files]
    return render(
        request,
        "staff/archives/dossier.html",
        {
            "dossier": dossier,
            "files": files,
            "images": [(f, n) for f, n in files if f.document.content_type in IMAGES],
        },
    )


@staff_required
def unit_file(request: HttpRequest, unit_id: int) -> HttpResponse:
    get_object_or_404(dossiers.units_in_scope(request.user), pk=unit_id)
    return _page(request, dossiers.unit_dossier(unit_id))


@staff_required
def household_file(request: HttpRequest, household_id: int) -> HttpResponse:
    get_object_or_404(dossiers.households_in_scope(request.user), pk=household_id)
    record_access(request, "household_file", household_id)
    return _page(request, dossiers.household_dossier(household_id))


def _document(request: HttpRequest, sha256: str) -> Document:
    if len(sha256) != 64 or not dossiers.may_open(request.user, sha256):
        raise Http404
    return get_object_or_404(Document, pk=sha256)


@staff_required
def file_view(request: HttpRequest, sha256: str) -> HttpResponse:
    """The file inline (?download=1 as an attachment); each time is logged."""
    document = _document(request, sha256)
    return documents.serve(request, document, download=request.GET.get("download") == "1")


@staff_required
def file_log(request: HttpRequest, sha256: str) -> HttpResponse:
    """Who viewed or downloaded this file, when and from where."""
    document = _document(request, sha256)
    log = Paginator(
        FileAccess.objects.filter(document=document).select_related("user"), 50
    ).get_page(request.GET.get("page"))
    return render(request, "staff/archives/file_log.html", {"document": document, "page": log})
