"""Where an application is made, as the form offers it: county → street → community, each list
narrowed by the level above once that is chosen. The server narrows it (so the form works
without JavaScript) and hands the same tree to static/housing/places.js, which narrows as the
applicant chooses."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from geo.models import Region

Row = tuple[int, str, int]  # pk, name, parent pk


@dataclass(frozen=True)
class PlaceTree:
    counties: list[Row]
    streets: list[Row]
    communities: list[Row]

    @classmethod
    def load(cls, scope: Iterable[int] | None = None) -> "PlaceTree":
        """Every county, street and community; with `scope` (region pks, as a clerk's
        jurisdiction gives them) only its communities and the streets and counties above them."""
        levels = {Region.Level.DISTRICT: [], Region.Level.STREET: [], Region.Level.COMMUNITY: []}
        for pk, name, parent, level in (
            Region.objects.filter(level__in=levels)
            .order_by("adcode")
            .values_list("pk", "name", "parent_id", "level")
        ):
            levels[level].append((pk, name, parent))
        counties = levels[Region.Level.DISTRICT]
        streets = levels[Region.Level.STREET]
        communities = levels[Region.Level.COMMUNITY]
        if scope is not None:
            allowed = set(scope)
            communities = [c for c in communities if c[0] in allowed]
            above = {c[2] for c in communities}
            streets = [s for s in streets if s[0] in allowed or s[0] in above]
            above = {s[2] for s in streets}
            counties = [c for c in counties if c[0] in allowed or c[0] in above]
        return cls(counties, streets, communities)

    def _names(self) -> dict[int, str]:
        return {pk: name for pk, name, _parent in (*self.counties, *self.streets)}

    def county_of(self, street: int | None) -> int | None:
        return next((s[2] for s in self.streets if s[0] == street), None)

    def county_choices(self) -> list:
        return [("", _("请选择区县")), *((pk, name) for pk, name, _parent in self.counties)]

    def street_choices(self, county: int | None) -> list:
        """The county's streets; before a county is chosen, every street named with its county
        ("涡阳县 · 胜利镇"), since the same street name recurs in several counties."""
        if county is not None:
            rows = [(pk, name) for pk, name, parent in self.streets if parent == county]
            return [("", _("请选择街道/乡镇")), *rows]
        names = self._names()
        rows = [(pk, f"{names.get(parent, '')} · {name}") for pk, name, parent in self.streets]
        return [("", _("请选择街道/乡镇（可先选区县）")), *rows]

    def community_choices(self, county: int | None, street: int | None) -> list:
        """The street's communities; else the county's, or all, named with what is above them."""
        if street is not None and (county is None or self.county_of(street) == county):
            rows = [(pk, name) for pk, name, parent in self.communities if parent == street]
            return [("", _("请选择社区/村")), *rows]
        names = self._names()
        county_of = {pk: parent for pk, _name, parent in self.streets}
        rows = []
        for pk, name, parent in self.communities:
            street_name = names.get(parent, "")
            if county is None:
                county_name = names.get(county_of.get(parent), "")
                rows.append((pk, f"{county_name} · {street_name} · {name}"))
            elif county_of.get(parent) == county:
                rows.append((pk, f"{street_name} · {name}"))
        return [("", _("请选择社区/村（可先选街道/乡镇）")), *rows]

    def as_json(self) -> dict:
        """For places.js: streets and communities with their parent, in display order."""
        return {"streets": self.streets, "communities": self.communities}
