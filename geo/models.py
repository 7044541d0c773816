"""The housing stock on the map: regions, operators, estates, buildings, units and POIs.

Every geometry is stored in WGS84 (EPSG:4326) with a GiST index and a validity constraint;
other coordinate systems are converted at the edges (import, display on Chinese base maps).
"""

from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import PointOnSurface
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from geo.ordering import natural


def _valid(field: str) -> Q:
    return Q(**{f"{field}__isvalid": True})


def _trigram(field: str, name: str) -> GinIndex:
    return GinIndex(fields=[field], opclasses=["gin_trgm_ops"], name=name)


class GeometryCheckedByDatabase(models.Model):
    """Geometry validity is a database constraint (ST_IsValid) that Django cannot evaluate in
    Python; forms check geometry themselves with a clearer message, the database has the
    last word."""

    class Meta:
        abstract = True

    def validate_constraints(self, exclude=None) -> None:
        geometry = {
            f.name for f in self._meta.concrete_fields if isinstance(f, models.GeometryField)
        }
        super().validate_constraints(exclude=set(exclude or ()) | geometry)


class Searchable(GeometryCheckedByDatabase):
    """Names kept with their pinyin, so the search box finds them typed in Latin letters."""

    search_pinyin = models.CharField(max_length=2000, blank=True, editable=False)
    search_initials = models.CharField(max_length=600, blank=True, editable=False)

    class Meta:
        abstract = True

    def search_keys(self) -> tuple[str, str]:
        """(pinyin, initials) of the text the search box matches in Chinese."""
        from geo.pinyin import search_keys

        return search_keys(self.name)  # type: ignore[attr-defined]

    def save(self, *args, **kwargs) -> None:
        self.search_pinyin, self.search_initials = self.search_keys()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_pinyin", "search_initials"}
        super().save(*args, **kwargs)


class Region(Searchable):
    """A node of the administrative tree: city > district/county > street/township > community."""

    class Level(models.TextChoices):
        CITY = "city", _("市")
        DISTRICT = "district", _("县/区")
        STREET = "street", _("街道/乡镇")
        COMMUNITY = "community", _("社区/村")

    adcode = models.CharField(_("行政区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    boundary = models.MultiPolygonField(_("边界"), srid=4326)
    is_demo = models.BooleanField(_("演示数据"), default=False)

    class Meta:
        verbose_name = _("行政区域")
        verbose_name_plural = _("行政区域")
        ordering = ["adcode"]
        indexes = [
            models.Index(fields=["level", "adcode"], name="region_level_idx"),
            _trigram("name", "region_name_trgm"),
            _trigram("search_pinyin", "region_pinyin_trgm"),
        ]
        constraints = [
            models.CheckConstraint(condition=_valid("boundary"), name="region_boundary_valid"),
            models.CheckConstraint(
                condition=Q(adcode__regex=r"^[0-9]{6}([0-9]{3}){0,2}$"), name="region_adcode_format"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Operator(models.Model):
    """运营单位: the company or agency that runs estates day to day."""

    name = models.CharField(_("名称"), max_length=120, unique=True)
    contact = models.CharField(_("联系人"), max_length=60, blank=True)
    hotline = models.CharField(_("服务电话"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("运营单位")
        verbose_name_plural = _("运营单位")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def public_estate_q(prefix: str = "") -> Q:
    """What makes an estate public, defined once; `prefix` reaches it from units or buildings."""
    return Q(**{f"{prefix}published": True})


class EstateQuerySet(models.QuerySet):
    def published(self) -> "EstateQuerySet":
        """The only estates the public may see: every public view starts here."""
        return self.filter(public_estate_q())

    def visible_to(self, user) -> "EstateQuerySet":
        """The estates in a staff member's jurisdiction: every back-office view starts here."""
        from geo.jurisdiction import estate_scope  # it reads Region's levels from here

        return self.filter(estate_scope(user))


class BuildingQuerySet(models.QuerySet):
    def visible_to(self, user) -> "BuildingQuerySet":
        from geo.jurisdiction import estate_scope

        return self.filter(estate_scope(user, "estate__"))


class UnitQuerySet(models.QuerySet):
    def visible_to(self, user) -> "UnitQuerySet":
        from geo.jurisdiction import estate_scope

        return self.filter(estate_scope(user, "building__estate__"))


class Estate(Searchable):
    """A public rental housing project (项目/小区) with its site boundary and entrance point."""

    name = models.CharField(_("名称"), max_length=120)
    address = models.CharField(_("地址"), max_length=200)
    district = models.ForeignKey(
        Region,
        verbose_name=_("县/区"),
        on_delete=models.PROTECT,
        related_name="district_estates",
        limit_choices_to={"level": Region.Level.DISTRICT},
    )
    street = models.ForeignKey(
        Region,
        verbose_name=_("街道/乡镇"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="street_estates",
        limit_choices_to={"level": Region.Level.STREET},
    )
    community = models.ForeignKey(
        Region,
        verbose_name=_("社区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="community_estates",
        limit_choices_to={"level": Region.Level.COMMUNITY},
    )
    boundary = models.PolygonField(_("用地边界"), srid=4326, null=True, blank=True)
    location = models.PointField(_("位置"), srid=4326)
    # The same point as geography: distances in metres with an index, for "near me" queries.
    location_geog = models.GeneratedField(
        expression=Cast("location", models.PointField(geography=True, srid=4326)),
        output_field=models.PointField(geography=True, srid=4326, spatial_index=False),
        db_persist=True,
    )
    operator = models.ForeignKey(
        Operator,
        verbose_name=_("运营单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="estates",
    )
    year_built = models.PositiveSmallIntegerField(_("建成年份"), null=True, blank=True)
    facilities = models.JSONField(_("配套设施"), default=list, blank=True)
    description = models.TextField(_("简介"), blank=True)
    published = models.BooleanField(_("公开"), default=False)
    is_demo = models.BooleanField(_("演示数据"), default=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = EstateQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目（小区）")
        verbose_name_plural = _("项目（小区）")
        ordering = ["district__adcode", "name"]
        indexes = [
            models.Index(fields=["published", "district"], name="estate_pub_district_idx"),
            GistIndex(fields=["location_geog"], name="estate_location_geog_idx"),
            _trigram("name", "estate_name_trgm"),
            _trigram("address", "estate_address_trgm"),
            _trigram("search_pinyin", "estate_pinyin_trgm"),
            _trigram("search_initials", "estate_initials_trgm"),
        ]
        constraints = [
            models.CheckConstraint(condition=_valid("boundary"), name="estate_boundary_valid"),
            models.CheckConstraint(condition=_valid("location"), name="estate_location_valid"),
            models.CheckConstraint(
                condition=Q(year_built__isnull=True) | Q(year_built__range=(1949, 2100)),
                name="estate_year_built_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def search_keys(self) -> tuple[str, str]:
        """The address too: Chinese finds an estate by its address, so pinyin must as well."""
        from geo.pinyin import search_keys

        return search_keys(self.name, self.address)


class Building(GeometryCheckedByDatabase):
    """楼栋."""

    estate = models.ForeignKey(
        Estate, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="buildings"
    )
    number = models.CharField(_("楼号"), max_length=20)
    floors = models.PositiveSmallIntegerField(_("层数"))
    elevator = models.BooleanField(_("电梯"), default=False)
    footprint = models.PolygonField(_("占地轮廓"), srid=4326, null=True, blank=True)
    # A point inside the footprint, stored and indexed: where the building's units are drawn.
    position = models.GeneratedField(
        expression=PointOnSurface("footprint"),
        output_field=models.PointField(srid=4326, spatial_index=False),
        db_persist=True,
    )
    # Where the building and its units are drawn and found by bbox: `position`, or the estate's
    # entrance while the footprint is unknown. Kept by triggers (migration geo 0007), never null
    # in the database, so one indexed column answers a bbox without an OR.
    map_point = models.PointField(
        _("地图位置"), srid=4326, null=True, editable=False, spatial_index=False
    )

    objects = BuildingQuerySet.as_manager()

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["estate", *natural("number")]  # 2号楼 before 10号楼
        constraints = [
            models.UniqueConstraint(fields=["estate", "number"], name="building_number_unique"),
            models.CheckConstraint(condition=Q(floors__gte=1), name="building_floors_positive"),
            models.CheckConstraint(condition=_valid("footprint"), name="building_footprint_valid"),
        ]
        indexes = [
            GistIndex(fields=["position"], name="building_position_idx"),
            GistIndex(fields=["map_point"], name="building_map_point_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.estate} {self.number}"


class Unit(models.Model):
    """房屋: one dwelling, the thing residents apply for and are allocated."""

    class Status(models.TextChoices):
        VACANT = "vacant", _("空置")
        OFFERED = "offered", _("已配租待签约")
        OCCUPIED = "occupied", _("已入住")
        REPAIR = "repair", _("维修中")
        WITHHELD = "withheld", _("暂不分配")

    class Orientation(models.TextChoices):
        SOUTH = "S", _("朝南")
        NORTH = "N", _("朝北")
        EAST = "E", _("朝东")
        WEST = "W", _("朝西")
        SOUTH_NORTH = "SN", _("南北通透")
        EAST_WEST = "EW", _("东西向")

    building = models.ForeignKey(
        Building, verbose_name=_("楼栋"), on_delete=models.CASCADE, related_name="units"
    )
    number = models.CharField(_("房号"), max_length=20)
    floor = models.SmallIntegerField(_("楼层"))
    rooms = models.PositiveSmallIntegerField(_("室"))
    halls = models.PositiveSmallIntegerField(_("厅"), default=1)
    baths = models.PositiveSmallIntegerField(_("卫"), default=1)
    area = models.DecimalField(_("建筑面积（㎡）"), max_digits=6, decimal_places=2)
    orientation = models.CharField(
        _("朝向"), max_length=2, choices=Orientation.choices, default=Orientation.SOUTH
    )
    accessible = models.BooleanField(_("无障碍"), default=False)
    monthly_rent = models.DecimalField(_("月租金（元）"), max_digits=8, decimal_places=2)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.VACANT
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["building", "floor", "number"]
        indexes = [
            # Vacancy search: a small partial index carries the portal's filters.
            models.Index(
                fields=["building", "rooms", "area", "monthly_rent", "floor"],
                condition=Q(status="vacant"),
                name="unit_vacant_search_idx",
            ),
            models.Index(fields=["status", "building"], name="unit_status_building_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="unit_number_unique"),
            models.CheckConstraint(condition=Q(area__gt=0), name="unit_area_positive"),
            models.CheckConstraint(condition=Q(monthly_rent__gt=0), name="unit_rent_positive"),
            models.CheckConstraint(
                condition=Q(floor__gte=-5) & ~Q(floor=0), name="unit_floor_valid"
            ),
            models.CheckConstraint(
                condition=Q(rooms__lte=10) & Q(halls__lte=10) & Q(baths__lte=10),
                name="unit_layout_sane",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.building} {self.number}"

    @property
    def layout(self) -> str:
        return f"{self.rooms}室{self.halls}厅{self.baths}卫"

    @property
    def layout_label(self) -> str:
        """The layout in the reader's language (`layout` stays Chinese: published lists hold it)."""
        counts = {"rooms": self.rooms, "halls": self.halls, "baths": self.baths}
        return _("%(rooms)s室%(halls)s厅%(baths)s卫") % counts


# The statuses staff (or an import) may set by hand; offers and tenancies change through their
# own workflow.
MANUAL_STATUSES = frozenset({Unit.Status.VACANT, Unit.Status.REPAIR, Unit.Status.WITHHELD})


class POI(GeometryCheckedByDatabase):
    """A point of interest near estates that applicants weigh: schools, clinics, bus stops."""

    class Category(models.TextChoices):
        SCHOOL = "school", _("学校")
        HOSPITAL = "hospital", _("医院")
        CLINIC = "clinic", _("诊所/卫生服务站")
        BUS_STOP = "bus_stop", _("公交站")
        MARKET = "market", _("菜市场/超市")
        PARK = "park", _("公园")

    category = models.CharField(_("类别"), max_length=10, choices=Category.choices)
    name = models.CharField(_("名称"), max_length=120)
    location = models.PointField(_("位置"), srid=4326)
    is_demo = models.BooleanField(_("演示数据"), default=False)

    class Meta:
        verbose_name = _("周边设施")
        verbose_name_plural = _("周边设施")
        ordering = ["category", "name"]
        indexes = [models.Index(fields=["category"], name="poi_category_idx")]
        constraints = [
            models.CheckConstraint(condition=_valid("location"), name="poi_location_valid"),
        ]

    def __str__(self) -> str:
        return self.name


STOCK_VERSION_SLOTS = 16


class StockVersion(models.Model):
    """A counter of committed changes to the public stock (estates, buildings, units, POIs,
    regions, operators), bumped by statement-level triggers once per transaction, so public
    pages and tiles can key their caches on it and see a change at once. The counter is spread
    over a few slots (the version is their sum) so concurrent writers do not queue on one row.
    Read it through geo.stock_version; never write it from Python."""

    slot = models.PositiveSmallIntegerField(primary_key=True)
    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("房源数据版本")
        verbose_name_plural = _("房源数据版本")


def _count(label: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(label, default=0, db_default=0)


class EstateStockSummary(models.Model):
    """Per estate: its units counted by status, vacant ones by rooms, and the ranges an estate
    page, the home page, the estate API and the map markers show. Kept current by triggers on
    units and buildings (migration geo 0006: every write path, bulk updates included), so public
    pages and dashboards read one row per estate instead of joining every unit.

    Estates without units have no row or a row of zeros; never write it from Python."""

    estate = models.OneToOneField(
        Estate,
        verbose_name=_("项目"),
        primary_key=True,
        on_delete=models.DO_NOTHING,  # a trigger removes the row with its estate
        db_constraint=False,
        related_name="stock_summary",
    )
    units = _count(_("房屋套数"))
    vacant = _count(_("空置"))
    offered = _count(_("已配租待签约"))
    occupied = _count(_("已入住"))
    repair = _count(_("维修中"))
    withheld = _count(_("暂不分配"))
    vacant_rooms_1 = _count(_("空置一室"))
    vacant_rooms_2 = _count(_("空置两室"))
    vacant_rooms_3plus = _count(_("空置三室及以上"))
    area_min = models.DecimalField(_("最小面积"), max_digits=6, decimal_places=2, null=True)
    area_max = models.DecimalField(_("最大面积"), max_digits=6, decimal_places=2, null=True)
    rent_min = models.DecimalField(_("最低月租金"), max_digits=8, decimal_places=2, null=True)
    rent_max = models.DecimalField(_("最高月租金"), max_digits=8, decimal_places=2, null=True)
    vacant_rent_min = models.DecimalField(
        _("空置最低月租金"), max_digits=8, decimal_places=2, null=True
    )
    vacant_rent_max = models.DecimalField(
        _("空置最高月租金"), max_digits=8, decimal_places=2, null=True
    )
    # Distinct [rooms, halls, baths] of the vacant units, for the estate page's layouts.
    vacant_layouts = models.JSONField(_("空置户型"), default=list, db_default=[])

    class Meta:
        verbose_name = _("项目房源汇总")
        verbose_name_plural = _("项目房源汇总")
        indexes = [
            models.Index(fields=["vacant"], condition=Q(vacant__gt=0), name="summary_vacant_idx")
        ]
