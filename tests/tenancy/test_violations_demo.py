"""The demo clean-up (loaded by load_demo, or here) is made through the services on the demo
city: cases at every step (some overdue), complaints, an inspection round, utility readings
that flag idle units."""

from django.utils import timezone

from backoffice.violations import idle_leads
from geo.jurisdiction import estate_scope
from tenancy import demo_violations
from tenancy.models import Complaint, Inspection, ViolationCase
from tenancy.utility_import import idle_units, latest_month


def test_the_demo_has_a_case_at_every_step_and_idle_units_to_review(db, cast):
    today = timezone.localdate()
    summary = demo_violations.load(today)  # load_demo may have loaded it already
    assert summary == "违规演示数据已存在" or ("件违规案件" in summary and "条水电读数" in summary)
    statuses = set(ViolationCase.objects.values_list("status", flat=True))
    assert statuses == {"investigating", "deciding", "rectifying", "closed"}
    assert ViolationCase.objects.exclude(status="closed").filter(step_due__lt=today).exists()
    assert set(ViolationCase.objects.values_list("outcome", flat=True)) >= {
        "warned",
        "unfounded",
        "rectified",
        "exit",
    }
    assert Complaint.objects.filter(status="new").exists()
    assert Inspection.objects.filter(case__isnull=False).count() == 1
    city = cast.users["city"]
    scope = estate_scope(city, "unit__building__estate__")
    flagged = idle_units(scope, latest_month(scope))
    assert len(flagged) == 4
    assert sum(1 for row in idle_leads(city, latest_month(scope)) if not row["has_case"]) == 3
    assert demo_violations.load(today) == "违规演示数据已存在"
