"""Clerks pressing "生成合同" at the same moment, each on its own database connection: the
partial unique indexes leave one live contract per unit.

Not inside a test transaction (no django_db mark): each thread sees committed data only, so
what is made here is removed afterwards and later tests see the demo as it was.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection, transaction

from allocation.models import Offer
from housing.errors import NotAllowed
from tenancy.models import Contract, LeaseTemplate
from tenancy.services import contracts
from tests.personas import make_staff
from tests.tenancy.conftest import START, TEMPLATE


def test_one_live_contract_per_unit_under_concurrent_attempts(django_db_setup, django_db_blocker):
    """Four clerks press "生成合同" at once, each on its own connection (committed data, so
    everything made here is removed afterwards: later tests see the demo as it was)."""
    with django_db_blocker.unblock():
        offer = (
            Offer.objects.filter(status=Offer.Status.ACCEPTED, contract__isnull=True)
            .order_by("-pk")
            .first()
        )
        with transaction.atomic():  # committed: the clerks' connections must see them
            template = LeaseTemplate.objects.create(
                county=offer.household.county,
                version=98,
                title="公共租赁住房租赁合同",
                body=TEMPLATE.read_text(encoding="utf-8"),
            )
            clerk = make_staff("t-race", "operator", operator=offer.unit.building.estate.operator)
        barrier = threading.Barrier(4)

        def attempt(_):
            try:
                barrier.wait(timeout=30)
                contracts.draft(offer.pk, start=START, months=12, actor=clerk)
                return "made"
            except NotAllowed as exc:
                return str(exc)
            finally:
                connection.close()

        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                results = list(pool.map(attempt, range(4)))
            assert results.count("made") == 1, results
            assert Contract.objects.filter(unit=offer.unit).count() == 1
        finally:
            Contract.objects.filter(offer=offer).delete()
            template.delete()
            clerk.is_active = False  # the archive keeps naming them; the account just stops
            clerk.save()
