"""What every dashboard shares: the period, the scope of the viewer and the result shape.

A dashboard function takes (scope, period) and returns a `Dashboard` of `Table`s; each table
carries the rows a reader (or a screen reader, or an XLSX) gets and the series its chart draws,
built from the same rows so the two cannot disagree. Every figure is one grouped SQL query,
live or over a summary table the worker rebuilds (insights/summaries.py; the dashboard then
carries the rebuild's time as `as_of`).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q
from django.utils import timezone

from geo.jurisdiction import NOTHING, application_scope, estate_scope, place_scope, profile_of
from geo.models import Region

MONTHS_BY_DEFAULT = 12
MAX_MONTHS = 120  # ten years: a longer span is a typing mistake


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months_before(day: date, count: int) -> date:
    index = day.year * 12 + day.month - 1 - count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """Whole months, first..last inclusive (both the first day of their month)."""

    first: date
    last: date

    @classmethod
    def default(cls, today: date) -> "Period":
        last = today.replace(day=1)
        return cls(months_before(last, MONTHS_BY_DEFAULT - 1), last)

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def end(self) -> datetime:
        """The first moment after the period (exclusive bound)."""
        return timezone.make_aware(datetime.combine(next_month(self.last), time.min))

    @property
    def end_date(self) -> date:
        return next_month(self.last)

    def months(self) -> list[date]:
        months, month = [], self.first
        while month <= self.last:
            months.append(month)
            month = next_month(month)
        return months

    def label(self) -> str:
        return f"{self.first:%Y-%m} — {self.last:%Y-%m}"


def county_level_q(user: AbstractBaseUser, prefix: str = "", field: str = "county") -> Q:
    """Rows that know only their county (rounds, credit records): a city or county department
    sees its counties; streets, communities and operators see none of them."""
    if user.is_authenticated and user.is_superuser:
        return Q()
    profile = profile_of(user)
    region = profile.region if profile is not None else None
    if region is None:
        return NOTHING
    if region.level == Region.Level.CITY:
        return Q(**{f"{prefix}{field}__parent_id": region.pk})
    if region.level == Region.Level.DISTRICT:
        return Q(**{f"{prefix}{field}_id": region.pk})
    return NOTHING


@dataclass(frozen=True)
class Scope:
    """The viewer's jurisdiction narrowed to one county when the filter names one."""

    user: AbstractBaseUser
    county: Region | None = None

    def _county(self, path: str) -> Q:
        return Q(**{f"{path}_id": self.county.pk}) if self.county is not None else Q()

    @cached_property
    def _city_counties(self) -> list[int] | None:
        """A city department's counties by id (None for anyone else). `county_id IN (…)` is the
        same rows as `county.parent_id = city`, but the planner can use the (county, date)
        indexes and count the rows instead of joining the regions first."""
        profile = profile_of(self.user)
        region = profile.region if profile is not None else None
        if self.user.is_superuser or region is None or region.level != Region.Level.CITY:
            return None
        return list(Region.objects.filter(parent_id=region.pk).values_list("pk", flat=True))

    def _in_city(self, path: str) -> Q | None:
        counties = self._city_counties
        return None if counties is None else Q(**{f"{path}_id__in": counties})

    def applications(self, prefix: str = "") -> Q:
        mine = self._in_city(f"{prefix}county") or application_scope(self.user, prefix)
        return mine & self._county(f"{prefix}county")

    def households(self, prefix: str = "") -> Q:
        mine = self._in_city(f"{prefix}county") or place_scope(self.user, prefix, county="county")
        return mine & self._county(f"{prefix}county")

    def estates(self, prefix: str = "") -> Q:
        profile = profile_of(self.user)
        mine = (
            None if profile is None or profile.operator_id else self._in_city(f"{prefix}district")
        )
        return (mine or estate_scope(self.user, prefix)) & self._county(f"{prefix}district")

    def counties_only(self, prefix: str = "", field: str = "county") -> Q:
        mine = self._in_city(f"{prefix}{field}") or county_level_q(self.user, prefix, field)
        return mine & self._county(f"{prefix}{field}")

    def whole_counties(self, field: str = "county") -> Q | None:
        """The viewer's jurisdiction as whole counties (a condition on `field` of a summary
        kept per county), or None where it is part of a county (a street, a community), which
        such a summary cannot answer. The same rows as `applications()` and `households()`."""
        if self.user.is_superuser:
            return self._county(field)
        profile = profile_of(self.user)
        region = profile.region if profile is not None else None
        if region is None:
            return NOTHING
        if region.level == Region.Level.CITY:
            return self._in_city(field) & self._county(field)
        if region.level == Region.Level.DISTRICT:
            return Q(**{f"{field}_id": region.pk}) & self._county(field)
        return None


def number(value: Any) -> Any:
    """A cell value as a chart reads it: Decimals become floats, None stays a gap."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, timedelta):
        return round(value.total_seconds() / 86400, 1)
    return value


def percent(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """part / whole in per cent with one decimal, None when there is no whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def days(value: timedelta | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.total_seconds()) / 86400).quantize(Decimal("0.1"))


def hours(value: timedelta | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.total_seconds()) / 3600).quantize(Decimal("0.1"))


@dataclass
class Table:
    """One figure: its rows (first cell the category) and how its chart draws them.

    `chart` is "bar", "stacked", "line", "pie", "map" or "" (a table without a chart);
    `series` names the columns (by index) the chart plots.
    """

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    chart: str = "bar"
    series: list[int] = field(default_factory=lambda: [1])
    note: str = ""
    extra: dict = field(default_factory=dict)  # the map's boundaries and points

    def chart_data(self) -> dict:
        """What static/backoffice/charts.js draws: categories and one list per series."""
        return {
            "key": self.key,
            "kind": self.chart,
            "title": self.title,
            "categories": [str(r[0]) for r in self.rows],
            "series": [
                {"name": self.columns[i], "data": [number(r[i]) for r in self.rows]}
                for i in self.series
            ],
            **self.extra,
        }


@dataclass
class Dashboard:
    slug: str
    title: str
    tables: list[Table]
    note: str = ""
    as_of: datetime | None = None  # when its summary was rebuilt; None when counted live

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)
