"""Location lookup: the regions a point lies in and the nearest estates with vacant units."""

from dataclasses import dataclass, field

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.urls import reverse

from geo.models import Estate, Region, Unit

NEAREST = 5


@dataclass
class NearbyEstate:
    id: int
    name: str
    address: str
    vacant_units: int
    distance_m: int
    url: str


@dataclass
class Location:
    lon: float
    lat: float
    regions: dict[str, dict] = field(default_factory=dict)  # level -> {adcode, name}
    nearest: list[NearbyEstate] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "lon": self.lon,
            "lat": self.lat,
            "regions": self.regions,
            "nearest": [vars(n) for n in self.nearest],
        }

    @property
    def place_name(self) -> str:
        order = [Region.Level.DISTRICT, Region.Level.STREET, Region.Level.COMMUNITY]
        return " ".join(self.regions[lvl]["name"] for lvl in order if lvl in self.regions)


def _vacant_units_of_estate():
    return (
        Unit.objects.filter(building__estate=OuterRef("pk"), status=Unit.Status.VACANT)
        .order_by()
        .values("building__estate")
        .annotate(n=Count("id"))
        .values("n")
    )


def locate(lon: float, lat: float, limit: int = NEAREST) -> Location:
    """Two queries: regions containing the point, then the nearest estates with vacancies."""
    point = Point(lon, lat, srid=4326)
    result = Location(lon, lat)
    for level, adcode, name in Region.objects.filter(boundary__intersects=point).values_list(
        "level", "adcode", "name"
    ):
        result.regions[level] = {"adcode": adcode, "name": name}
    vacant = Unit.objects.filter(building__estate=OuterRef("pk"), status=Unit.Status.VACANT)
    estates = (
        Estate.objects.published()
        .filter(Exists(vacant))
        .annotate(
            distance=Distance("location_geog", point),
            vacant_units=Subquery(_vacant_units_of_estate(), output_field=IntegerField()),
        )
        .order_by("distance")
        .values("id", "name", "address", "vacant_units", "distance")[:limit]
    )
    result.nearest = [
        NearbyEstate(
            e["id"],
            e["name"],
            e["address"],
            e["vacant_units"],
            round(e["distance"].m),
            reverse("estate-detail", args=[e["id"]]),
        )
        for e in estates
    ]
    return result
