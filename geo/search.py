"""The search box: estates and places by Chinese name, address, full pinyin or initials.

Typing errors are forgiven through pinyin: a homophone typed by a pinyin input method (幸副家园)
or a slip in Latin letters (xingfujiayaun) still finds 幸福家园, by trigram word similarity on
the pinyin column, which a GIN index serves.
"""

from dataclasses import dataclass

from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import Case, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Greatest
from django.urls import reverse

from geo.models import Estate, Region
from geo.pinyin import pinyin_keys

MAX_QUERY = 60


@dataclass(frozen=True)
class SearchHit:
    kind: str  # estate | district | street | community
    kind_label: str
    name: str
    detail: str
    url: str
    lon: float
    lat: float
    score: float


def _scored(qs: QuerySet, text: str, pinyin: str, *, address: bool = False) -> QuerySet:
    initials = pinyin if pinyin.isascii() and pinyin.isalnum() else ""
    matches = (
        Q(name__contains=text)
        | Q(search_pinyin__trigram_word_similar=pinyin)
        | Q(search_pinyin__startswith=pinyin)
    )
    if initials:
        matches |= Q(search_initials__startswith=initials)
    if address:
        matches |= Q(address__contains=text)
    return qs.filter(matches).annotate(
        score=Greatest(
            Case(
                When(Q(address__contains=text) if address else Q(pk__in=[]), then=Value(0.8)),
                default=Value(0.0),
                output_field=FloatField(),
            ),
            Case(When(name=text, then=Value(2.0)), default=Value(0.0), output_field=FloatField()),
            Case(
                When(name__startswith=text, then=Value(1.2)),
                When(name__contains=text, then=Value(1.0)),
                default=Value(0.0),
                output_field=FloatField(),
            ),
            _initials_score(initials),
            TrigramWordSimilarity(Value(pinyin), F("search_pinyin")),
        )
    )


def _initials_score(initials: str) -> Case | Value:
    if not initials:
        return Value(0.0, output_field=FloatField())
    return Case(
        When(search_initials=initials, then=Value(1.1)),
        When(search_initials__startswith=initials, then=Value(0.9)),
        default=Value(0.0),
        output_field=FloatField(),
    )


def search_places(text: str, limit: int = 10) -> list[SearchHit]:
    """Ranked estates (by name or address) and regions for what was typed."""
    text = " ".join(text.split())[:MAX_QUERY]
    if not text:
        return []
    pinyin = pinyin_keys(text)[0].replace(" ", "")
    estates = _scored(Estate.objects.published(), text, pinyin, address=True)
    hits = [
        SearchHit(
            "estate",
            "项目",
            e.name,
            e.address,
            reverse("estate-detail", args=[e.pk]),
            e.location.x,
            e.location.y,
            e.score,
        )
        for e in estates.order_by("-score", "name")[:limit]
    ]
    regions = (
        _scored(Region.objects.exclude(level=Region.Level.CITY), text, pinyin)
        .select_related("parent")
        .defer("boundary", "parent__boundary")
        .annotate(centre=PointOnSurface("boundary"))
    )
    for r in regions.order_by("-score", "adcode")[:limit]:
        centre = r.centre
        hits.append(
            SearchHit(
                r.level,
                r.get_level_display(),
                r.name,
                r.parent.name if r.parent else "",
                reverse("home") + "?" + _region_filter(r, centre),
                centre.x,
                centre.y,
                r.score,
            )
        )
    return sorted(hits, key=lambda h: -h.score)[:limit]


def _region_filter(region: Region, centre) -> str:
    """The map view a region hit opens: its county or street, or 2 km around a community."""
    if region.level == Region.Level.DISTRICT:
        return f"district={region.adcode}"
    if region.level == Region.Level.STREET:
        return f"street={region.adcode}"
    return f"near={centre.x:.6f},{centre.y:.6f}&within_km=2"
