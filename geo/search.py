"""The search box: estates and places by Chinese name, address, full pinyin or initials.

Pinyin finds what Chinese finds: an estate's keys hold its name and its address word by word,
so tangling (or tljd) finds the estates in 汤陵街道 as 汤陵 does. Typing errors are forgiven
through pinyin: a homophone typed by a pinyin input method (安局新村) or a slip in Latin letters
(anjuxincnu) still finds 安居新村, by trigram word similarity on the pinyin column, which a GIN
index serves.
"""

from dataclasses import dataclass

from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import Case, F, FloatField, Q, QuerySet, Value, When
from django.db.models.functions import Greatest, Length
from django.urls import reverse
from django.utils.translation import gettext as _

from geo.models import Estate, Region
from geo.pinyin import pinyin_keys

MAX_QUERY = 60
REGION_SHARE = 3  # regions keep at least 1/3 of the hits, estates the rest


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
    """Rows matching Chinese, full pinyin or initials, each scored as its Chinese equivalent:
    the name first (its pinyin and initials are the first word of the keys), then the address
    (the following words), then trigram similarity for typing errors."""
    initials = pinyin if pinyin.isascii() and pinyin.isalnum() else ""
    matches = (
        Q(name__contains=text)
        | Q(search_pinyin__trigram_word_similar=pinyin)
        | _word_starts("search_pinyin", pinyin)
    )
    if initials:
        matches |= _word_starts("search_initials", initials)
    if address:
        matches |= Q(address__contains=text)
    return qs.filter(matches).annotate(
        score=Greatest(
            _score(Q(address__contains=text) if address else None, 0.8),
            _score(Q(name=text), 2.0),
            _score(Q(name__startswith=text), 1.2),
            _score(Q(name__contains=text), 1.0),
            _score(_first_word_is("search_pinyin", pinyin), 2.0),
            _score(Q(search_pinyin__startswith=pinyin), 1.2),
            _score(Q(search_pinyin__contains=" " + pinyin), 0.8),
            _score(_first_word_is("search_initials", initials) if initials else None, 1.1),
            _score(Q(search_initials__startswith=initials) if initials else None, 0.9),
            _score(Q(search_initials__contains=" " + initials) if initials else None, 0.7),
            TrigramWordSimilarity(Value(pinyin), F("search_pinyin")),
        )
    )


def _word_starts(field: str, key: str) -> Q:
    """A word of the keys starts with `key` (LIKE patterns the trigram index serves)."""
    return Q(**{f"{field}__startswith": key}) | Q(**{f"{field}__contains": " " + key})


def _first_word_is(field: str, key: str) -> Q:
    return Q(**{field: key}) | Q(**{f"{field}__startswith": key + " "})


def _score(condition: Q | None, value: float) -> Case | Value:
    if condition is None:
        return Value(0.0, output_field=FloatField())
    return Case(When(condition, then=Value(value)), default=Value(0.0), output_field=FloatField())


def search_places(text: str, limit: int = 10) -> list[SearchHit]:
    """Ranked estates (by name or address) and regions for what was typed, in two queries.

    Regions take at most a third of the hits while estates match too: 南湖 names a street and
    its communities in two counties, and they must not push the estates out of the list."""
    text = " ".join(text.split())[:MAX_QUERY]
    if not text:
        return []
    pinyin = pinyin_keys(text)[0].replace(" ", "")
    estates = list(
        _scored(Estate.objects.published(), text, pinyin, address=True).order_by("-score", "name")[
            :limit
        ]
    )
    regions = list(
        _scored(Region.objects.exclude(level=Region.Level.CITY), text, pinyin)
        .select_related("parent")
        .defer("boundary", "parent__boundary")
        .annotate(centre=PointOnSurface("boundary"))
        # Counties before streets before communities when they score the same.
        .order_by("-score", Length("adcode"), "adcode")[:limit]
    )
    region_room = max(limit - len(estates), limit // REGION_SHARE)
    regions = regions[:region_room]
    estates = estates[: limit - len(regions)]
    hits = [_estate_hit(e) for e in estates] + [_region_hit(r) for r in regions]
    return sorted(hits, key=lambda h: -h.score)


def _estate_hit(e: Estate) -> SearchHit:
    return SearchHit(
        "estate",
        _("项目"),
        e.name,
        e.address,
        reverse("estate-detail", args=[e.pk]),
        e.location.x,
        e.location.y,
        e.score,
    )


def _region_hit(r: Region) -> SearchHit:
    return SearchHit(
        r.level,
        r.get_level_display(),
        r.name,
        r.parent.name if r.parent else "",
        reverse("home") + "?" + _region_filter(r, r.centre),
        r.centre.x,
        r.centre.y,
        r.score,
    )


def _region_filter(region: Region, centre) -> str:
    """The map view a region hit opens: its county or street, or 2 km around a community."""
    if region.level == Region.Level.DISTRICT:
        return f"district={region.adcode}"
    if region.level == Region.Level.STREET:
        return f"street={region.adcode}"
    return f"near={centre.x:.6f},{centre.y:.6f}&within_km=2"


def search_example() -> dict[str, str] | None:
    """A real estate and its initials, for the hint under an empty result: an example that
    works on this site, whatever city it serves."""
    name = Estate.objects.published().order_by("pk").values_list("name", flat=True).first()
    if name is None:
        return None
    return {"name": name, "initials": pinyin_keys(name)[1]}
