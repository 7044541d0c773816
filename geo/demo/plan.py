"""Planning the demo city in pure Python (shapely), so it is deterministic and testable offline.

Everything comes from one `random.Random(seed)`: the same counties, seed and size give the same
city, row for row. Nothing here touches the database; `geo.demo.write` stores a plan.
"""

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import shapely
from shapely import affinity
from shapely.geometry import MultiPoint, MultiPolygon, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

from geo.demo import names

M_PER_DEG_LAT = 110_540.0
UNITS_PER_ESTATE = 200  # the demo's average estate size; 8,000 units -> 40 estates
STREETS_PER_COUNTY = 8
COMMUNITIES_PER_STREET = 4
STATUS_WEIGHTS = {"occupied": 0.90, "offered": 0.03, "repair": 0.04, "withheld": 0.03}


@dataclass
class County:
    adcode: str
    name: str
    geometry: BaseGeometry
    centre: tuple[float, float] | None = None  # lon, lat of the urban centre
    share: float = 1.0
    spread_km: float = 2.0
    urban: bool = False


@dataclass
class PlannedRegion:
    adcode: str
    name: str
    level: str
    parent_adcode: str
    geometry: MultiPolygon


@dataclass
class PlannedBuilding:
    number: str
    floors: int
    units_per_floor: int
    elevator: bool
    footprint: Polygon
    seed: int  # each building's units come from their own generator


@dataclass
class PlannedEstate:
    name: str
    address: str
    district: str
    street: str
    community: str
    boundary: Polygon
    location: Point
    operator: int
    year_built: int
    facilities: list[str]
    description: str
    published: bool
    rent_per_m2: float
    buildings: list[PlannedBuilding] = field(default_factory=list)


@dataclass
class PlannedPOI:
    category: str
    name: str
    location: Point


@dataclass
class PlannedUnit:
    number: str
    floor: int
    rooms: int
    halls: int
    baths: int
    area: Decimal
    orientation: str
    accessible: bool
    monthly_rent: Decimal
    status: str


@dataclass
class DemoPlan:
    seed: int
    vacancy_rate: float
    regions: list[PlannedRegion]
    operators: list[tuple[str, str, str]]
    estates: list[PlannedEstate]
    pois: list[PlannedPOI]

    @property
    def unit_total(self) -> int:
        return sum(b.floors * b.units_per_floor for e in self.estates for b in e.buildings)


def plan_city(
    counties: list[County],
    *,
    seed: int = 1,
    units: int = 8000,
    city_name: str = "",
    area_code: str = "",
) -> DemoPlan:
    """Lay out streets, communities, estates with buildings, and POIs for a unit target."""
    rng = random.Random(seed)
    vacancy_rate = rng.uniform(0.06, 0.09)
    regions: list[PlannedRegion] = []
    communities_by_county: dict[str, list[PlannedRegion]] = {}
    for county in counties:
        streets, communities = _partition_county(rng, county)
        regions += streets + communities
        communities_by_county[county.adcode] = communities
    operators = [
        (f"{city_name}{name}（演示）", contact, f"{area_code}-{rng.randint(5000000, 5999999)}")
        for name, contact in names.OPERATORS
    ]
    estate_count = max(len(counties), round(units / UNITS_PER_ESTATE))
    budgets = _split(rng, units, estate_count)
    streets_by_code = {r.adcode: r for r in regions if r.level == "street"}
    estates: list[PlannedEstate] = []
    taken: list[Polygon] = []
    used_names: set[str] = set()
    for index, county in enumerate(_pick_counties(rng, counties, estate_count)):
        boundary = _place_estate(rng, county, taken)
        taken.append(boundary)
        community = _containing(communities_by_county[county.adcode], boundary.centroid)
        street = streets_by_code[community.parent_adcode]
        name = _estate_name(rng, used_names)
        estate = PlannedEstate(
            name=name,
            address=_address(rng, county, street),
            district=county.adcode,
            street=street.adcode,
            community=community.adcode,
            boundary=boundary,
            location=boundary.centroid,
            operator=rng.randrange(len(operators)),
            year_built=rng.randint(2008, 2023),
            facilities=sorted(rng.sample(names.FACILITIES, rng.randint(3, 6))),
            description="【演示数据】程序生成的虚构项目，仅用于展示系统功能。",
            published=not (estate_count >= 5 and index % 20 == 19),
            rent_per_m2=rng.uniform(8.0, 15.0),
        )
        estate.buildings = _plan_buildings(rng, boundary, budgets[index])
        estates.append(estate)
    pois = [poi for e in estates for poi in _plan_pois(rng, e, counties)]
    return DemoPlan(seed, vacancy_rate, regions, operators, estates, pois)


def plan_units(
    plan: DemoPlan, building: PlannedBuilding, rent_per_m2: float
) -> Iterator[PlannedUnit]:
    """A building's units, floor by floor; layouts follow position on the floor like real plans."""
    rng = random.Random(building.seed)
    for floor in range(1, building.floors + 1):
        for pos in range(1, building.units_per_floor + 1):
            end = pos in (1, building.units_per_floor)
            rooms = 2 if end or rng.random() < 0.35 else 1
            area = rng.uniform(45, 60) if rooms == 2 else rng.uniform(30, 45)
            area_d = Decimal(f"{area:.2f}")
            rent = Decimal(round(float(area_d) * rent_per_m2))
            if rng.random() < plan.vacancy_rate:
                status = "vacant"
            else:
                status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
            yield PlannedUnit(
                number=f"{floor}{pos:02d}",
                floor=floor,
                rooms=rooms,
                halls=1,
                baths=1,
                area=area_d,
                orientation="SN" if end else rng.choice(["S", "S", "S", "E", "W"]),
                accessible=floor == 1 and (building.elevator or rng.random() < 0.3),
                monthly_rent=rent,
                status=status,
            )


# --- regions ---------------------------------------------------------------------------------


def _partition_county(rng: random.Random, county: County):
    """Streets as Voronoi cells of the county, communities as cells of each street: a partition."""
    street_seeds = _random_points(rng, county.geometry, STREETS_PER_COUNTY)
    if county.centre:
        # Urban streets are smaller: a few extra seeds near the centre split the town.
        cx, cy = county.centre
        for _ in range(3):
            street_seeds.append(_jitter(rng, cx, cy, county.spread_km * 0.6))
    street_cells = _voronoi_cells(county.geometry, street_seeds)
    streets, communities = [], []
    words = rng.sample(names.STREET_WORDS, len(street_cells))
    for i, cell in enumerate(street_cells, start=1):
        near_centre = county.centre is not None and cell.distance(Point(county.centre)) < 0.02
        kind = "街道" if near_centre else "镇"
        street = PlannedRegion(
            adcode=f"{county.adcode}{i:03d}",
            name=f"{words[i - 1]}{kind}",
            level="street",
            parent_adcode=county.adcode,
            geometry=cell,
        )
        streets.append(street)
        seeds = _random_points(rng, cell, COMMUNITIES_PER_STREET)
        suffix = names.COMMUNITY_SUFFIXES_URBAN if near_centre else names.COMMUNITY_SUFFIXES_RURAL
        for j, sub in enumerate(_voronoi_cells(cell, seeds), start=1):
            communities.append(
                PlannedRegion(
                    adcode=f"{street.adcode}{j:03d}",
                    name=f"{words[i - 1]}{names.NUMERALS[j - 1]}{suffix}",
                    level="community",
                    parent_adcode=street.adcode,
                    geometry=sub,
                )
            )
    return streets, communities


def _voronoi_cells(area: BaseGeometry, seeds: list[Point]) -> list[MultiPolygon]:
    cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=area.envelope.buffer(0.1))
    result = []
    # Order cells by their seed so numbering does not depend on GEOS's output order.
    for seed_point in seeds:
        for cell in cells.geoms:
            if cell.contains(seed_point):
                piece = _polygonal(shapely.make_valid(cell.intersection(area)))
                if not piece.is_empty:
                    result.append(piece)
                break
    return result


def _polygonal(geom: BaseGeometry) -> MultiPolygon:
    polys = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, Polygon) and g.area > 0]
    return MultiPolygon(polys)


def _random_points(rng: random.Random, area: BaseGeometry, n: int) -> list[Point]:
    xmin, ymin, xmax, ymax = area.bounds
    prepared = prep(area)
    points: list[Point] = []
    while len(points) < n:
        p = Point(rng.uniform(xmin, xmax), rng.uniform(ymin, ymax))
        if prepared.contains(p):
            points.append(p)
    return points


def _containing(regions: list[PlannedRegion], point: Point) -> PlannedRegion:
    for region in regions:
        if region.geometry.contains(point):
            return region
    return min(regions, key=lambda r: r.geometry.distance(point))


# --- estates and buildings -------------------------------------------------------------------


def _pick_counties(rng: random.Random, counties: list[County], n: int) -> list[County]:
    """Every county gets at least one estate; the rest follow each county's share."""
    picked = list(counties[:n])
    weights = [c.share for c in counties]
    picked += rng.choices(counties, weights=weights, k=n - len(picked))
    return picked


def _split(rng: random.Random, total: int, parts: int) -> list[int]:
    """Split a unit target into estate budgets that vary but add up to the target."""
    weights = [rng.uniform(0.5, 1.5) for _ in range(parts)]
    scale = total / sum(weights)
    budgets = [max(12, round(w * scale)) for w in weights]
    budgets[-1] = max(12, budgets[-1] + total - sum(budgets))
    return budgets


def _place_estate(rng: random.Random, county: County, taken: list[Polygon]) -> Polygon:
    """A rotated rectangle site near the county's centre, inside the county, clear of others."""
    cx, cy = county.centre or county.geometry.representative_point().coords[0]
    prepared = prep(county.geometry)
    spread = county.spread_km
    for attempt in range(10_000):
        if attempt and attempt % 200 == 0:
            spread *= 1.5  # a crowded centre: look a little further out
        centre = _jitter(rng, cx, cy, spread)
        site = _rectangle(
            centre, rng.uniform(120, 260), rng.uniform(100, 220), rng.uniform(-30, 30)
        )
        if prepared.contains(site.buffer(0.002)) and not any(site.intersects(t) for t in taken):
            return site
    raise RuntimeError(f"no room left for another estate in {county.name}")


def _plan_buildings(rng: random.Random, site: Polygon, budget: int) -> list[PlannedBuilding]:
    """Slab blocks in rows inside the site, sized so their units add up to about the budget."""
    floors, elevator = rng.choice([(6, False), (11, True), (18, True), (6, False), (11, True)])
    per_floor = rng.choice([2, 4, 4, 6])
    per_building = floors * per_floor
    count = max(1, round(budget / per_building))
    while count > 1 and count * per_building > budget * 1.3:
        count -= 1
    # Fit `count` footprints into a grid in the site's own frame.
    cols = max(1, math.ceil(math.sqrt(count * 1.5)))
    rows = math.ceil(count / cols)
    angle, width, height, centre = _frame(site)
    cell_w, cell_h = width / cols, height / rows
    buildings = []
    for i in range(count):
        r, c = divmod(i, cols)
        x0 = -width / 2 + c * cell_w
        y0 = -height / 2 + r * cell_h
        fw, fh = cell_w * 0.7, min(cell_h * 0.5, 14.0)
        footprint = box(
            x0 + (cell_w - fw) / 2,
            y0 + (cell_h - fh) / 2,
            x0 + (cell_w + fw) / 2,
            y0 + (cell_h + fh) / 2,
        )
        footprint = affinity.rotate(footprint, angle, origin=(0, 0))
        buildings.append(
            PlannedBuilding(
                number=f"{i + 1}号楼",
                floors=floors,
                units_per_floor=per_floor,
                elevator=elevator,
                footprint=_to_lonlat(footprint, centre),
                seed=rng.getrandbits(48),
            )
        )
    return buildings


def _estate_name(rng: random.Random, used: set[str]) -> str:
    for _ in range(1000):
        name = rng.choice(names.ESTATE_PREFIXES) + rng.choice(names.ESTATE_SUFFIXES)
        if name not in used:
            used.add(name)
            return name
    base = rng.choice(names.ESTATE_PREFIXES) + rng.choice(names.ESTATE_SUFFIXES)
    n = 2
    while f"{base}{n}期" in used:
        n += 1
    used.add(f"{base}{n}期")
    return f"{base}{n}期"


def _plan_pois(
    rng: random.Random, estate: PlannedEstate, counties: list[County]
) -> list[PlannedPOI]:
    county = next(c for c in counties if c.adcode == estate.district)
    cx, cy = estate.location.x, estate.location.y
    pois = []
    for _ in range(rng.randint(4, 8)):
        category = rng.choice(list(names.POI_NAMES))
        for _attempt in range(50):
            p = _jitter(rng, cx, cy, 0.6)
            if county.geometry.contains(p) and not estate.boundary.contains(p):
                break
        word = rng.choice(names.STREET_WORDS)
        pois.append(PlannedPOI(category, f"{word}{rng.choice(names.POI_NAMES[category])}", p))
    return pois


def _address(rng: random.Random, county: County, street: PlannedRegion) -> str:
    road = rng.choice(names.ROAD_WORDS)
    return f"{county.name}{street.name}{road}路{rng.randint(1, 399)}号"


# --- geometry helpers ------------------------------------------------------------------------


def _m_per_deg_lon(lat: float) -> float:
    return 111_320.0 * math.cos(math.radians(lat))


def _jitter(rng: random.Random, lon: float, lat: float, spread_km: float) -> Point:
    return Point(
        lon + rng.gauss(0, spread_km * 1000) / _m_per_deg_lon(lat),
        lat + rng.gauss(0, spread_km * 1000) / M_PER_DEG_LAT,
    )


def _rectangle(centre: Point, width_m: float, height_m: float, angle: float) -> Polygon:
    local = affinity.rotate(box(-width_m / 2, -height_m / 2, width_m / 2, height_m / 2), angle)
    return _to_lonlat(local, centre)


def _frame(site: Polygon) -> tuple[float, float, float, Point]:
    """Angle, width and height in metres, and centre, of a rectangle made by `_rectangle`."""
    centre = site.centroid
    xs, ys = site.exterior.coords.xy
    local = [
        ((x - centre.x) * _m_per_deg_lon(centre.y), (y - centre.y) * M_PER_DEG_LAT)
        for x, y in zip(xs, ys, strict=True)
    ]
    (x0, y0), (x1, y1), (x2, y2) = local[0], local[1], local[2]
    width = math.hypot(x1 - x0, y1 - y0)
    height = math.hypot(x2 - x1, y2 - y1)
    angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
    return angle, width * 0.9, height * 0.9, centre


def _to_lonlat(local: Polygon, centre: Point) -> Polygon:
    k_lon = 1 / _m_per_deg_lon(centre.y)
    return shapely.transform(
        local, lambda xy: xy * [k_lon, 1 / M_PER_DEG_LAT] + [centre.x, centre.y]
    )
