"""Points of interest around an estate, capped per category: a page shows the nearest few of
each kind and how many more there are, not hundreds of rows with distances."""

import math
from dataclasses import dataclass, field

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Polygon
from django.contrib.gis.measure import D
from django.db.models import Count, F, Window
from django.db.models.functions import RowNumber

from geo.models import POI, Estate

RADIUS_M = 1500
PER_CATEGORY = 5


@dataclass
class NearbyGroup:
    """One category's nearest POIs and how many others lie within the radius."""

    label: str
    pois: list[POI] = field(default_factory=list)
    more: int = 0


def nearby_pois(
    estate: Estate, radius_m: int = RADIUS_M, per_category: int = PER_CATEGORY
) -> list[NearbyGroup]:
    """The nearest `per_category` POIs of each category within `radius_m`, in one query."""
    x, y = estate.location.x, estate.location.y
    dlon, dlat = radius_m / (111_320 * math.cos(math.radians(y))), radius_m / 110_540
    box = Polygon.from_bbox((x - dlon, y - dlat, x + dlon, y + dlat))  # served by the GiST index
    box.srid = 4326
    distance = Distance("location", estate.location)
    rows = (
        POI.objects.filter(location__intersects=box)
        .annotate(distance=distance)
        .filter(distance__lte=D(m=radius_m))
        .annotate(
            rank=Window(RowNumber(), partition_by=F("category"), order_by=distance.asc()),
            in_category=Window(Count("id"), partition_by=F("category")),
        )
        .filter(rank__lte=per_category)
        .only("id", "name", "category")
        .order_by("category", "rank")
    )
    labels = dict(POI.Category.choices)
    groups: dict[str, NearbyGroup] = {}
    for poi in rows:
        group = groups.get(poi.category)
        if group is None:
            group = groups[poi.category] = NearbyGroup(str(labels.get(poi.category, poi.category)))
            group.more = poi.in_category - per_category if poi.in_category > per_category else 0
        group.pois.append(poi)
    return sorted(groups.values(), key=lambda g: g.pois[0].distance.m)  # nearest kind first
