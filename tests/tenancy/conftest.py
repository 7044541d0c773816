"""Fixtures of the tenancy tests: the county's lease template and an accepted demo offer."""

from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from allocation.models import Offer
from tenancy.models import LeaseTemplate
from tests.personas import make_staff

TEMPLATE = Path(settings.BASE_DIR) / "data" / "lease-template.html"


@pytest.fixture
def offer(db) -> Offer:
    """An accepted offer whose county has a lease template (the demo city's 谯城区)."""
    offer = (
        Offer.objects.filter(status=Offer.Status.ACCEPTED, contract__isnull=True)
        .select_related("household", "unit__building__estate")
        .order_by("pk")
        .first()
    )
    assert offer is not None, "the demo city has accepted offers"
    LeaseTemplate.objects.get_or_create(
        county=offer.household.county,
        version=99,
        defaults={"title": "公共租赁住房租赁合同", "body": TEMPLATE.read_text(encoding="utf-8")},
    )
    return offer


@pytest.fixture
def operator_staff(offer):
    return make_staff("t-operator", "operator", operator=offer.unit.building.estate.operator)


START = date(2027, 1, 1)
