"""The stock version changes with every change to the public stock, so cached public pages
and tiles keyed on it show a change at once; reading the stock leaves it alone."""

import pytest

from geo import services, stock_version
from geo.models import POI, Estate, Unit

pytestmark = pytest.mark.django_db


def test_changing_a_units_status_bumps_the_version():
    unit = Unit.objects.filter(status="vacant", building__estate__published=True).first()
    before = stock_version.state()
    services.change_unit_status(unit.pk, expected="vacant", new="repair", reason="漏水", actor=None)
    after = stock_version.state()
    assert after.version > before.version
    assert after.changed_at >= before.changed_at


def test_reading_the_stock_leaves_the_version_alone():
    before = stock_version.current()
    list(Unit.objects.filter(status="vacant")[:50])
    list(Estate.objects.published()[:5])
    assert stock_version.current() == before


@pytest.mark.parametrize("table", ["estate", "poi", "bulk units"])
def test_every_stock_table_bumps_the_version(table):
    before = stock_version.current()
    if table == "estate":
        estate = Estate.objects.published().first()
        Estate.objects.filter(pk=estate.pk).update(description="新简介")
    elif table == "poi":
        POI.objects.filter(pk=POI.objects.first().pk).update(name="新站名")
    else:
        Unit.objects.filter(status="repair").update(status="withheld")
    assert stock_version.current() > before


def test_each_change_in_one_transaction_gives_a_new_version():
    # Tests run in one transaction: every change must still be told apart by caches.
    unit = Unit.objects.filter(status="vacant").first()
    versions = [stock_version.current()]
    for status in ["repair", "withheld", "vacant"]:
        Unit.objects.filter(pk=unit.pk).update(status=status)
        versions.append(stock_version.current())
    assert versions == sorted(set(versions))
