"""存量数据整理校核: the stock-data faults to fix before the national standard export (贯标).

Each fault kind is one set-based query (a UNION ALL of them answers the report's counts and
one page of rows), so the report stays a handful of SQL statements at a million units. The
one exception is ID numbers: they are encrypted at rest (archive.crypto), so their check
digits can only be tested in Python; `id_faults` reads the tokens through one server-side
cursor in batches (`iterator(chunk_size=…)`) and decrypts them one by one, never all at once.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.gis.geos import Point
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.functions import Cast, Concat, Upper
from django.utils.translation import gettext_lazy as _

from archive.crypto import UnreadableData, decrypt
from exchange.idcard import validate_id_number
from geo.jurisdiction import estate_scope, place_scope
from geo.models import Building, Estate, Region, Unit
from housing.identity import masked
from housing.models import Household, HouseholdMember

# The plausible ranges, as data: a city overrides them with the setting ANJU_STOCK_LIMITS.
DEFAULT_LIMITS = {"area_max": Decimal("300"), "rent_max": Decimal("5000")}
BATCH = 2000


def limits() -> dict[str, Decimal]:
    return DEFAULT_LIMITS | {
        k: Decimal(str(v)) for k, v in getattr(settings, "ANJU_STOCK_LIMITS", {}).items()
    }


@dataclass(frozen=True)
class Kind:
    code: str
    label: str
    problem: str  # formatted with %(value)s and the limits
    link: str  # the staff page where it is fixed (a URL name taking the row's link id)


KINDS = [
    Kind(
        "duplicate_unit",
        _("重复房屋"),
        _("同一楼栋另有房号“%(value)s”，是同一房号（空格、“室”“号”、前导 0 不算区别）"),
        "asset-unit",
    ),
    Kind("estate_no_location", _("项目无坐标"), _("没有坐标（位置为空或为 0,0）"), "asset-estate"),
    Kind(
        "estate_outside_county",
        _("项目不在所属县/区内"),
        _("位置 %(value)s 不在所属县/区的边界内"),
        "asset-estate",
    ),
    Kind(
        "building_outside_estate",
        _("楼栋不在项目用地内"),
        _("楼栋位置 %(value)s 不在项目用地边界内"),
        "asset-estate",
    ),
    Kind(
        "unit_bad_area",
        _("面积异常"),
        _("建筑面积 %(value)s ㎡，应大于 0 且不超过 %(area_max)s ㎡"),
        "asset-unit",
    ),
    Kind(
        "unit_bad_rent",
        _("租金异常"),
        _("月租金 %(value)s 元，应大于 0 且不超过 %(rent_max)s 元"),
        "asset-unit",
    ),
    Kind("household_no_members", _("保障对象无家庭成员"), _("没有家庭成员记录"), "review-detail"),
    Kind(
        "export_estate_address",
        _("贯标必填：项目地址"),
        _("缺少地址"),
        "asset-estate",
    ),
    Kind(
        "export_unit_layout",
        _("贯标必填：房屋面积或户型"),
        _("缺少建筑面积或室数（现为 %(value)s）"),
        "asset-unit",
    ),
    Kind(
        "export_household_county",
        _("贯标必填：保障对象所属县/区"),
        _("所属区县“%(value)s”不是县/区级行政区"),
        "review-detail",
    ),
    Kind("bad_id_number", _("身份证号校验不通过"), "%(value)s", "review-detail"),
]
BY_CODE = {k.code: k for k in KINDS}
RANK = {k.code: i for i, k in enumerate(KINDS)}
PYTHON_KINDS = {"bad_id_number"}  # found in Python (encrypted data), listed after the SQL kinds


@dataclass(frozen=True)
class Scope:
    """Which estates and households a report covers (geo.jurisdiction's conditions)."""

    estates: Q  # on Estate
    households: Q  # on Household

    @classmethod
    def of(cls, user: AbstractBaseUser) -> "Scope":
        return cls(estate_scope(user), place_scope(user, county="county"))

    @classmethod
    def everything(cls) -> "Scope":
        """The whole database, for `manage.py check_stock_data` run by the administrator."""
        return cls(Q(), Q())

    def under(self, prefix: str, households: bool = False) -> Q:
        """This scope's condition reached from another model through `prefix`."""
        q = self.households if households else self.estates
        return _prefixed(q, prefix)


def _prefixed(q: Q, prefix: str) -> Q:
    if not prefix:
        return q
    out = Q(_connector=q.connector, _negated=q.negated)
    for child in q.children:
        out.children.append(
            _prefixed(child, prefix) if isinstance(child, Q) else (prefix + child[0], child[1])
        )
    return out


@dataclass(frozen=True)
class Fault:
    kind: str
    obj_id: int
    obj: str
    county_id: int | None
    county: str
    value: str
    link_id: int

    @property
    def label(self) -> str:
        return str(BY_CODE[self.kind].label)

    @property
    def problem(self) -> str:
        return str(BY_CODE[self.kind].problem) % {"value": self.value, **limits()}

    @property
    def link(self) -> str:
        return BY_CODE[self.kind].link


# --- the set-based kinds ------------------------------------------------------------------------

COLUMNS = ("f_rank", "f_kind", "f_obj_id", "f_obj", "f_county_id", "f_county", "f_value", "f_link")


def _text(expression) -> Cast:
    return Cast(expression, TextField())


def _rows(qs: QuerySet, kind: str, obj, county: str, value, link: str = "pk") -> QuerySet:
    """The kind's rows in the report's common shape (one SELECT of the UNION)."""
    return (
        qs.order_by()
        .annotate(
            f_rank=Value(RANK[kind], output_field=IntegerField()),
            f_kind=_text(Value(kind)),
            f_obj_id=F("pk"),
            f_obj=_text(obj),
            f_county_id=F(f"{county}_id"),
            f_county=_text(F(f"{county}__name")),
            f_value=_text(value),
            f_link=F(link),
        )
        .values_list(*COLUMNS)
    )


def _number_key(field: str):
    """A unit number as people mean it: no blanks, "室"/"号"/"-", leading zeros or case."""
    stripped = Func(
        F(field),
        Value(r"[\s　\-_#室号]"),
        Value(""),
        Value("g"),
        function="regexp_replace",
        output_field=CharField(),
    )
    return Upper(Func(stripped, Value("0"), function="ltrim", output_field=CharField()))


def _point_text(field: str) -> Func:
    return Func(
        F(field),
        template=(
            "concat(round(ST_X(%(expressions)s)::numeric, 6), ',', "
            "round(ST_Y(%(expressions)s)::numeric, 6))"
        ),
        output_field=TextField(),
    )


def _covers(area: str, point: str) -> Func:
    return Func(F(area), F(point), function="ST_Covers", output_field=BooleanField())


NO_LOCATION = (
    Q(location__isnull=True)
    | Q(Func(F("location"), function="ST_IsEmpty", output_field=BooleanField()))
    | Q(location__equals=Point(0, 0, srid=4326))
)


def _unit_label():
    return Concat(
        "building__estate__name",
        Value(" "),
        "building__number",
        Value(" "),
        "number",
        output_field=CharField(),
    )


def _kind_queries(scope: Scope, county: int | None = None) -> dict[str, QuerySet]:
    """Every set-based kind's rows within `scope` (and one county, if given)."""
    lim = limits()
    estates = Estate.objects.filter(scope.estates)
    buildings = Building.objects.filter(scope.under("estate__"))
    units = Unit.objects.filter(scope.under("building__estate__"))
    households = Household.objects.filter(scope.households)
    if county:
        estates = estates.filter(district_id=county)
        buildings = buildings.filter(estate__district_id=county)
        units = units.filter(building__estate__district_id=county)
        households = households.filter(county_id=county)
    unit_county = "building__estate__district"
    # A plain EXISTS on equalities: PostgreSQL runs it as one hash semi-join over the units.
    same = (
        Unit.objects.annotate(key=_number_key("number"))
        .filter(building_id=OuterRef("building_id"), key=OuterRef("key"))
        .exclude(pk=OuterRef("pk"))
    )
    duplicates = units.annotate(
        key=_number_key("number"), other=Subquery(same.order_by("pk").values("number")[:1])
    ).filter(Exists(same))
    return {
        "duplicate_unit": _rows(duplicates, "duplicate_unit", _unit_label(), unit_county, "other"),
        "estate_no_location": _rows(
            estates.filter(NO_LOCATION), "estate_no_location", "name", "district", Value("")
        ),
        "estate_outside_county": _rows(
            estates.exclude(NO_LOCATION).filter(~Q(_covers("district__boundary", "location"))),
            "estate_outside_county",
            "name",
            "district",
            _point_text("location"),
        ),
        "building_outside_estate": _rows(
            buildings.filter(position__isnull=False, estate__boundary__isnull=False).filter(
                ~Q(_covers("estate__boundary", "position"))
            ),
            "building_outside_estate",
            Concat("estate__name", Value(" "), "number", output_field=CharField()),
            "estate__district",
            _point_text("position"),
            link="estate_id",
        ),
        "unit_bad_area": _rows(
            units.filter(Q(area__lte=0) | Q(area__gt=lim["area_max"])),
            "unit_bad_area",
            _unit_label(),
            unit_county,
            "area",
        ),
        "unit_bad_rent": _rows(
            units.filter(Q(monthly_rent__lte=0) | Q(monthly_rent__gt=lim["rent_max"])),
            "unit_bad_rent",
            _unit_label(),
            unit_county,
            "monthly_rent",
        ),
        "household_no_members": _rows(
            households.filter(~Exists(HouseholdMember.objects.filter(household=OuterRef("pk")))),
            "household_no_members",
            Concat("public_key", Value(" "), "head_name", output_field=CharField()),
            "county",
            Value(""),
        ),
        "export_estate_address": _rows(
            estates.filter(Q(address__isnull=True) | Q(address__regex=r"^\s*$")),
            "export_estate_address",
            "name",
            "district",
            Value(""),
        ),
        "export_unit_layout": _rows(
            units.filter(Q(area__isnull=True) | Q(rooms__isnull=True) | Q(rooms=0)),
            "export_unit_layout",
            _unit_label(),
            unit_county,
            Concat(
                Cast("area", CharField()),
                Value(" ㎡ / "),
                "rooms",
                Value(" 室"),
                output_field=CharField(),
            ),
        ),
        "export_household_county": _rows(
            households.exclude(county__level=Region.Level.DISTRICT),
            "export_household_county",
            Concat("public_key", Value(" "), "head_name", output_field=CharField()),
            "county",
            "county__name",
        ),
    }


def _union(queries: dict[str, QuerySet], kinds: list[str]) -> QuerySet | None:
    chosen = [queries[k] for k in kinds if k in queries]
    if not chosen:
        return None
    return chosen[0].union(*chosen[1:], all=True) if len(chosen) > 1 else chosen[0]


def counts(scope: Scope, kinds: list[str] | None = None) -> list[tuple[str, int | None, str, int]]:
    """(kind, county id, county name, faults) of the set-based kinds, in one statement."""
    union = _union(_kind_queries(scope), kinds or list(BY_CODE))
    if union is None:
        return []
    sql, params = union.query.get_compiler(connection=connection).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT f_kind, f_county_id, f_county, count(*) "
            f"FROM ({sql}) AS faults GROUP BY 1, 2, 3",  # Django's compiled SQL, with parameters
            params,
        )
        return list(cursor.fetchall())


def sql_faults(scope: Scope, kind: str = "", county: int | None = None) -> QuerySet | None:
    """The set-based faults (filtered by kind and county), ordered: slice it for a page."""
    kinds = [kind] if kind else [k.code for k in KINDS if k.code not in PYTHON_KINDS]
    union = _union(_kind_queries(scope, county), kinds)
    return None if union is None else union.order_by("f_rank", "f_county", "f_obj", "f_obj_id")


def as_fault(row: tuple) -> Fault:
    _rank, kind, obj_id, obj, county_id, county, value, link = row
    return Fault(kind, obj_id, obj or "", county_id, county or "", value or "", link)


# --- ID numbers (Python: they are encrypted) ---------------------------------------------------


def id_faults(scope: Scope, county: int | None = None) -> list[Fault]:
    """Household members whose ID number fails GB 11643 (length, date, region, check digit).

    The tokens are read raw through one server-side cursor, `BATCH` rows at a time, and
    decrypted here: an unreadable token is a fault too, not a crash of the report.
    """
    members = HouseholdMember.objects.filter(scope.under("household__", households=True))
    if county:
        members = members.filter(household__county_id=county)
    rows = (
        members.order_by()
        .annotate(token=Cast("id_number", TextField()))
        .exclude(token="")
        .values_list(
            "pk",
            "name",
            "token",
            "household_id",
            "household__public_key",
            "household__county_id",
            "household__county__name",
        )
    )
    found = []
    for pk, name, token, household, key, county_id, county_name in rows.iterator(chunk_size=BATCH):
        try:
            number = decrypt(token)
        except UnreadableData:
            reason, shown = str(_("无法解密（密钥缺失）")), ""
        else:
            reason = validate_id_number(number)
            if reason is None:
                continue
            shown = masked(number) if len(number) >= 10 else number
        value = f"{name} {shown}：{reason}".replace("  ", " ")
        found.append(
            Fault("bad_id_number", pk, f"{key} {name}", county_id, county_name, value, household)
        )
    found.sort(key=lambda f: (f.county, f.obj, f.obj_id))
    return found


def all_faults(scope: Scope, kind: str = "", county: int | None = None) -> Iterator[Fault]:
    """Every fault, for downloads: the set-based ones streamed, then the ID numbers."""
    if kind not in PYTHON_KINDS:
        union = sql_faults(scope, kind, county)
        if union is not None:
            for row in union.iterator(chunk_size=BATCH):
                yield as_fault(row)
    if not kind or kind in PYTHON_KINDS:
        yield from id_faults(scope, county)
