"""A re-check run and a clerk opening the same lead at the same moment, each on its own
connection: the partial unique index leaves one open case, and every caller gets it back.

Not inside a test transaction (no django_db mark): the threads see committed data only, so the
case made here is removed afterwards (its archive events stay: they are append-only).
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from geo.models import Unit
from tenancy.models import ViolationCase
from tenancy.services import violations

CALLERS = 4


def test_one_open_case_per_lead_under_concurrent_opens(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        unit = Unit.objects.order_by("-pk").first()
        barrier = threading.Barrier(CALLERS)

        def attempt(_):
            try:
                barrier.wait(timeout=30)
                return violations.open_case(
                    kind_code="sublet",
                    unit_id=unit.pk,
                    contract_id=None,
                    household_id=None,
                    source="recheck",
                    source_ref="race:1",
                    summary="并发立案",
                    evidence={},
                    actor=None,
                ).pk
            finally:
                connection.close()

        try:
            with ThreadPoolExecutor(max_workers=CALLERS) as pool:
                results = list(pool.map(attempt, range(CALLERS)))
            assert len(set(results)) == 1, results
            assert ViolationCase.objects.filter(unit=unit, source_ref="race:1").count() == 1
        finally:
            ViolationCase.objects.filter(unit=unit, source_ref="race:1").delete()
