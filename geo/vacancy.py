"""The vacancy search: one definition of the portal's filters for pages, API, tiles and OGC API.

`VacancyForm` reads and checks the query string (Chinese labels and errors); `VacancyQuery`
turns it into conditions on units and estates, usable from either side of a join.
"""

from dataclasses import dataclass, fields
from decimal import Decimal

from django import forms
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db.models import Q
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from geo.data_select import DataSelect
from geo.models import Region, Unit, public_estate_q

MAX_RADIUS_KM = 50
ROOM_CHOICES = [("1", _("一室")), ("2", _("两室")), ("3", _("三室及以上"))]
YES = [("", _("不限")), ("1", _("需要"))]


@dataclass(frozen=True)
class VacancyQuery:
    """What a visitor asked for; empty fields mean "any"."""

    district: str | None = None
    street: str | None = None
    rooms: tuple[int, ...] = ()
    area_min: Decimal | None = None
    area_max: Decimal | None = None
    rent_min: Decimal | None = None
    rent_max: Decimal | None = None
    floor_min: int | None = None
    floor_max: int | None = None
    elevator: bool = False
    accessible: bool = False
    orientation: tuple[str, ...] = ()
    near: Point | None = None
    within_km: float | None = None

    def unit_q(self, prefix: str = "") -> Q:
        """Conditions on vacant units; `prefix` reaches units from another model."""
        p = prefix
        q = Q(**{f"{p}status": Unit.Status.VACANT})
        if self.rooms:
            room_q = Q(**{f"{p}rooms__in": [r for r in self.rooms if r < 3]})
            if 3 in self.rooms:
                room_q |= Q(**{f"{p}rooms__gte": 3})
            q &= room_q
        for name, lookup in [
            ("area_min", "area__gte"),
            ("area_max", "area__lte"),
            ("rent_min", "monthly_rent__gte"),
            ("rent_max", "monthly_rent__lte"),
            ("floor_min", "floor__gte"),
            ("floor_max", "floor__lte"),
        ]:
            value = getattr(self, name)
            if value is not None:
                q &= Q(**{f"{p}{lookup}": value})
        if self.elevator:
            q &= Q(**{f"{p}building__elevator": True})
        if self.accessible:
            q &= Q(**{f"{p}accessible": True})
        if self.orientation:
            q &= Q(**{f"{p}orientation__in": self.orientation})
        return q

    def estate_q(self, prefix: str = "") -> Q:
        """Conditions on the estate: where it is."""
        p = prefix
        q = public_estate_q(p)
        if self.district:
            q &= Q(**{f"{p}district__adcode": self.district})
        if self.street:
            q &= Q(**{f"{p}street__adcode": self.street})
        if self.near is not None and self.within_km:
            q &= Q(**{f"{p}location_geog__dwithin": (self.near, D(km=self.within_km))})
        return q

    def units_q(self) -> Q:
        """Conditions for a query on Unit."""
        return self.unit_q() & self.estate_q("building__estate__")

    @property
    def is_empty(self) -> bool:
        return self == VacancyQuery()

    def as_params(self) -> dict[str, str]:
        """The query string that reproduces this search (for links, tiles and pagination)."""
        params: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value in (None, False, ()):
                continue
            if f.name == "near":
                params["near"] = f"{value.x:.6f},{value.y:.6f}"
            elif isinstance(value, tuple):
                params[f.name] = ",".join(str(v) for v in value)
            elif value is True:
                params[f.name] = "1"
            else:
                params[f.name] = str(value)
        return params


class CommaMultipleChoiceField(forms.MultipleChoiceField):
    """Accepts ?rooms=1&rooms=2 and ?rooms=1,2 alike: links stay short."""

    def to_python(self, value):
        if isinstance(value, str):
            value = [value]
        items = super().to_python(value)
        return [part for item in items for part in str(item).split(",") if part]


class VacancyForm(forms.Form):
    district = forms.RegexField(
        label=_("区县"),
        regex=r"^[0-9]{6}$",
        required=False,
        error_messages={"invalid": _("区县应为6位行政区划代码")},
    )
    street = forms.RegexField(
        label=_("街道/乡镇"),
        regex=r"^[0-9]{9}$",
        required=False,
        error_messages={"invalid": _("街道应为9位行政区划代码")},
    )
    rooms = CommaMultipleChoiceField(
        label=_("户型"), choices=ROOM_CHOICES, required=False, widget=forms.CheckboxSelectMultiple
    )
    # Bounded like the columns they filter, so no typed value can overflow a query.
    area_min = forms.DecimalField(
        label=_("最小面积（㎡）"), required=False, min_value=0, max_value=9999, decimal_places=2
    )
    area_max = forms.DecimalField(
        label=_("最大面积（㎡）"), required=False, min_value=0, max_value=9999, decimal_places=2
    )
    rent_min = forms.DecimalField(
        label=_("最低月租金（元）"), required=False, min_value=0, max_value=999999, decimal_places=2
    )
    rent_max = forms.DecimalField(
        label=_("最高月租金（元）"), required=False, min_value=0, max_value=999999, decimal_places=2
    )
    floor_min = forms.IntegerField(label=_("最低楼层"), required=False, min_value=-5, max_value=200)
    floor_max = forms.IntegerField(label=_("最高楼层"), required=False, min_value=-5, max_value=200)
    elevator = forms.BooleanField(label=_("有电梯"), required=False)
    accessible = forms.BooleanField(label=_("无障碍房屋"), required=False)
    orientation = CommaMultipleChoiceField(
        label=_("朝向"),
        choices=Unit.Orientation.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    near = forms.CharField(
        label=_("位置（经度,纬度）"),
        required=False,
        help_text=_("例如 115.7800,33.8500；可在地图上点选或使用当前位置"),
    )
    within_km = forms.FloatField(
        label=_("距离（公里）以内"), required=False, min_value=0.1, max_value=MAX_RADIUS_KM
    )

    def __init__(self, data: QueryDict | dict | None = None, *args, **kwargs):
        super().__init__(data if data is not None else {}, *args, **kwargs)

    LOCATION_FIELDS = ("district", "street", "near", "within_km")

    @property
    def unit_fields(self) -> list:
        """The fields about the unit itself, for a page that is already about one estate."""
        return [self[name] for name in self.fields if name not in self.LOCATION_FIELDS]

    def add_region_choices(self) -> None:
        """Drop-down lists of counties and of streets grouped by county (one query)."""
        regions = Region.objects.filter(
            level__in=[Region.Level.DISTRICT, Region.Level.STREET]
        ).values_list("adcode", "name", "level", "parent__name")
        districts: list = [("", _("全部区县"))]
        by_county: dict[str, list] = {}
        for adcode, name, level, parent in regions:
            if level == Region.Level.DISTRICT:
                districts.append((adcode, name))
            else:
                by_county.setdefault(parent, []).append((adcode, name))
        streets: list = [("", _("全部街道/乡镇")), *by_county.items()]
        self.fields["district"].widget = DataSelect(choices=districts)
        self.fields["street"].widget = DataSelect(choices=streets)

    def clean_near(self) -> Point | None:
        raw = (self.cleaned_data.get("near") or "").replace("，", ",").strip()
        if not raw:
            return None
        try:
            lon, lat = (float(part) for part in raw.split(","))
        except ValueError:
            raise forms.ValidationError(_("位置应为“经度,纬度”，例如 115.78,33.85")) from None
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise forms.ValidationError(_("经纬度超出范围"))
        return Point(lon, lat, srid=4326)

    def clean(self) -> dict:
        data = super().clean()
        for low, high, label in [
            ("area_min", "area_max", _("面积")),
            ("rent_min", "rent_max", _("租金")),
            ("floor_min", "floor_max", _("楼层")),
        ]:
            lo, hi = data.get(low), data.get(high)
            if lo is not None and hi is not None and lo > hi:
                self.add_error(high, _("%(label)s的上限不能小于下限") % {"label": label})
        if data.get("within_km") and not data.get("near"):
            self.add_error("near", _("按距离筛选需要先选定一个位置"))
        return data

    def query(self) -> VacancyQuery:
        """The search as asked; call only when the form is valid."""
        d = self.cleaned_data
        return VacancyQuery(
            district=d.get("district") or None,
            street=d.get("street") or None,
            rooms=tuple(sorted(int(r) for r in d.get("rooms") or [])),
            area_min=d.get("area_min"),
            area_max=d.get("area_max"),
            rent_min=d.get("rent_min"),
            rent_max=d.get("rent_max"),
            floor_min=d.get("floor_min"),
            floor_max=d.get("floor_max"),
            elevator=bool(d.get("elevator")),
            accessible=bool(d.get("accessible")),
            orientation=tuple(d.get("orientation") or []),
            near=d.get("near"),
            within_km=d.get("within_km"),
        )


def parse_vacancy_query(params: QueryDict) -> tuple[VacancyQuery, VacancyForm]:
    """The query from request parameters; invalid fields are reported and left out."""
    form = VacancyForm(params)
    if form.is_valid():
        return form.query(), form
    for name in form.errors:
        form.cleaned_data.pop(name, None)
    return form.query(), form
