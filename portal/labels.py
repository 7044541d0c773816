"""Labels for list rows computed once per distinct value, not once per row: a page of units
shares a handful of layouts and orientations, so translating each row's is wasted work."""

from collections.abc import Iterable

from django.utils.translation import gettext as _

from geo.models import EstateStockSummary, Unit


def layout_label(rooms: int, halls: int, baths: int) -> str:
    return _("%(rooms)s室%(halls)s厅%(baths)s卫") % {"rooms": rooms, "halls": halls, "baths": baths}


def label_units(units: Iterable[Unit]) -> None:
    """Set `layout_text` and `orientation_text` on each unit, translating each value once."""
    layouts: dict[tuple[int, int, int], str] = {}
    orientations = {value: str(label) for value, label in Unit.Orientation.choices}
    for unit in units:
        key = (unit.rooms, unit.halls, unit.baths)
        if key not in layouts:
            layouts[key] = layout_label(*key)
        unit.layout_text = layouts[key]
        unit.orientation_text = orientations.get(unit.orientation, unit.orientation)


def summary_for_page(summary: EstateStockSummary) -> dict:
    """What the top of an estate page shows, from the estate's summary row."""
    return {
        "total": summary.units,
        "vacant": summary.vacant,
        "area_min": summary.area_min,
        "area_max": summary.area_max,
        "rent_min": summary.rent_min,
        "rent_max": summary.rent_max,
        "vacant_layouts": sorted({layout_label(*layout) for layout in summary.vacant_layouts}),
    }
