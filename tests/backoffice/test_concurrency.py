"""Two clerks pressing the same button at once: row locks make one win and one event.

Not inside a test transaction: each thread has its own connection and sees committed data.
"""

import threading

from django.db import connection

from archive.models import Event
from geo import services
from geo.models import Building, Estate, Unit


def test_two_clerks_at_once_give_one_result_and_one_event(django_db_setup, django_db_blocker):
    """Real concurrency: two connections race on one committed unit; row locks decide."""
    with django_db_blocker.unblock():
        estate = Estate.objects.filter(published=True).first()
        building = Building.objects.create(estate=estate, number="并发测试楼", floors=1)
        unit = Unit.objects.create(
            building=building,
            number="101",
            floor=1,
            rooms=1,
            area=40,
            monthly_rent=400,
            status="vacant",
        )
        barrier = threading.Barrier(2)
        outcomes: list[str] = []

        def clerk(new_status: str) -> None:
            try:
                barrier.wait(timeout=10)
                services.change_unit_status(
                    unit.pk,
                    expected="vacant",
                    new=new_status,
                    reason=f"改为{new_status}",
                    actor=None,
                )
                outcomes.append(new_status)
            except services.StaleState:
                outcomes.append("stale")
            finally:
                connection.close()

        threads = [threading.Thread(target=clerk, args=(s,)) for s in ("repair", "withheld")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        unit.refresh_from_db()
        assert sorted(outcomes) in (["repair", "stale"], ["stale", "withheld"])
        winner = next(o for o in outcomes if o != "stale")
        assert unit.status == winner
        assert Event.objects.filter(unit_id=unit.pk).count() == 1
        connection.close()
