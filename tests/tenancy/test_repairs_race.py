"""Four operators press "完工" on the same repair at the same moment, each on its own database
connection: the row lock lets one close it; the others are told it is already done, and the
vacant unit comes back exactly once.

Not inside a test transaction (no django_db mark): each thread sees committed data only, so
what is made here is removed afterwards and later tests see the demo as it was.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connection

from archive.models import Event
from geo.models import Unit
from housing.errors import NotAllowed
from tenancy.models import Repair
from tenancy.services import repairs
from tests.personas import make_staff


def test_one_close_wins_under_concurrent_clicks(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        unit = (
            Unit.objects.filter(status=Unit.Status.VACANT, building__estate__operator__isnull=False)
            .select_related("building__estate")
            .order_by("-pk")
            .first()
        )
        clerk = make_staff("t-repair-race", "operator", operator=unit.building.estate.operator)
        repair = repairs.report_by_staff(
            unit_id=unit.pk, category="general", description="并发测试", actor=clerk
        )
        repairs.assign(repair.pk, actor=clerk, assignee_name="维修一班")
        barrier = threading.Barrier(4)

        def attempt(n: int) -> str:
            try:
                barrier.wait(timeout=30)
                repairs.close(repair.pk, actor=clerk, note=f"第 {n} 位完工")
                return "closed"
            except NotAllowed as exc:
                return str(exc)
            finally:
                connection.close()

        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                results = list(pool.map(attempt, range(4)))
            assert results.count("closed") == 1, results
            assert all("不能进行此操作" in r for r in results if r != "closed"), results
            assert (
                Event.objects.filter(action="repair.closed", after__repair=repair.pk).count() == 1
            )
            assert Unit.objects.get(pk=unit.pk).status == Unit.Status.VACANT
        finally:
            Repair.objects.filter(pk=repair.pk).delete()
            Unit.objects.filter(pk=unit.pk).update(status=Unit.Status.VACANT)
            clerk.is_active = False  # the archive keeps naming them; the account just stops
            clerk.save()
