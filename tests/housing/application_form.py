"""The /apply/ form as a resident's browser posts it: the tests of the online path share it, so
a new required field is added in one place."""

from geo.models import Region


def demo_place() -> tuple[Region, Region, Region]:
    """A place to apply in: (county, street, community) of the demo city's 谯城区."""
    county = Region.objects.get(adcode="341602")
    street = Region.objects.filter(parent=county).order_by("adcode").last()
    community = Region.objects.filter(parent=street).order_by("adcode").last()
    return county, street, community


def application_form(
    action: str, name: str, id_number: str, place, members: list[dict], **fields
) -> dict:
    """POST data for /apply/: the case, its place (county, street, community) and its members
    ({"name", "relation", "id_number"}); `fields` override or add form fields."""
    county, street, community = place
    form = {
        "action": action,
        "name": name,
        "id_number": id_number,
        "county": county.pk,
        "street": street.pk,
        "community": community.pk,
        "housing_situation": "租住私房",
        "current_area": "25",
        "employer": "某公司",
        "monthly_income": "2500",
        "consent": "on",
        "m-TOTAL_FORMS": len(members),
        "m-INITIAL_FORMS": 0,
        "m-MIN_NUM_FORMS": 0,
        "m-MAX_NUM_FORMS": 12,
    }
    for i, m in enumerate(members):
        form |= {
            f"m-{i}-name": m["name"],
            f"m-{i}-relation": m["relation"],
            f"m-{i}-id_number": m["id_number"],
        }
    return form | fields
