"""State changes to the housing stock. Each is one transaction; views never write on their own."""

from dataclasses import dataclass

from django.db import transaction

from geo.models import Region
from geo.region_import import RegionRecord, sorted_for_insert


@dataclass
class RegionLoadResult:
    created: int
    updated: int


@transaction.atomic
def upsert_regions(records: list[RegionRecord], *, is_demo: bool = False) -> RegionLoadResult:
    """Create or update regions by adcode, parents first, all or nothing."""
    created = updated = 0
    ids: dict[str, int] = dict(
        Region.objects.filter(
            adcode__in={r.parent_adcode for r in records if r.parent_adcode}
        ).values_list("adcode", "id")
    )
    for record in sorted_for_insert(records):
        region, was_created = Region.objects.update_or_create(
            adcode=record.adcode,
            defaults={
                "name": record.name,
                "level": record.level,
                "parent_id": ids.get(record.parent_adcode) if record.parent_adcode else None,
                "boundary": record.boundary,
                "is_demo": is_demo,
            },
        )
        ids[record.adcode] = region.pk
        created += was_created
        updated += not was_created
    return RegionLoadResult(created=created, updated=updated)
