"""Fixtures of the application tests: a place to apply in and one clerk per review step."""

import pytest

from geo.models import Region
from tests.housing.application_form import demo_place
from tests.personas import make_staff


@pytest.fixture
def place(db):
    return demo_place()


@pytest.fixture
def chain_staff(place):
    county, street, community = place
    other_street = Region.objects.filter(parent=county).exclude(pk=street.pk).first()
    return {
        "community": make_staff("r-community", "community", region=community),
        "street": make_staff("r-street", "street", region=street),
        "district": make_staff("r-district", "district", region=county),
        "other_street": make_staff("r-other-street", "street", region=other_street),
        "other_county": make_staff(
            "r-other-county", "district", region=Region.objects.get(adcode="341621")
        ),
    }
