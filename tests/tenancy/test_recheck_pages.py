"""/staff/operations/recheck/: each role sees the hits of its jurisdiction only (another
county's or operator's hit is a 404, its decision too); the county judges a hit with a
reason (false positive, exit, violation case), each recorded in the archive; the queue costs
the same queries however many hits it shows; the staff home counts the open hits."""

import pytest
from django.urls import reverse

from archive.models import Event
from backoffice.recheck import pending_tasks
from exchange.sources import SyntheticSource
from geo.jurisdiction import estate_scope
from geo.models import Estate, Operator
from tenancy.models import Contract, RecheckHit, RecheckRun
from tenancy.services import recheck
from tests.personas import make_staff
from tests.tenancy.test_recheck import forget_rechecks, plant_failures

pytestmark = pytest.mark.django_db
SCOPE = "contract__unit__building__estate__"


@pytest.fixture
def hits(db) -> list[RecheckHit]:
    forget_rechecks()
    plant_failures()
    recheck.run_recheck(actor=None, source=SyntheticSource())
    found = list(RecheckHit.objects.select_related("contract__unit__building__estate"))
    assert len({h.county_id for h in found}) >= 2, "hits in more than one county"
    return found


def estate_of(hit: RecheckHit) -> Estate:
    return hit.contract.unit.building.estate


def test_each_role_sees_its_jurisdiction_and_another_is_a_404(client, hits):
    hit = hits[0]
    estate = estate_of(hit)
    other = next(h for h in hits if h.county_id != hit.county_id)
    other_operator = Operator.objects.exclude(pk=estate.operator_id).first()
    inside = {
        "district": make_staff("r-district", "district", region=estate.district),
        "operator": make_staff("r-operator", "operator", operator=estate.operator),
        "city": make_staff("r-city", "city", region=estate.district.parent),
    }
    outside = {
        "district": make_staff("r-other-district", "district", region=estate_of(other).district),
        "operator": make_staff("r-other-operator", "operator", operator=other_operator),
    }
    for role, user in inside.items():
        client.force_login(user)
        assert client.get(reverse("recheck-hit", args=[hit.pk])).status_code == 200, role
        shown = client.get(reverse("recheck") + "?status=all").context["page"].paginator.count
        assert shown == RecheckHit.objects.filter(estate_scope(user, SCOPE)).count(), role
    for role, user in outside.items():
        client.force_login(user)
        assert client.get(reverse("recheck-hit", args=[hit.pk])).status_code == 404, role
        response = client.post(
            reverse("recheck-decide", args=[hit.pk]), {"action": "dismiss", "reason": "x"}
        )
        assert response.status_code == 404, role
        listed = client.get(reverse("recheck") + "?status=all").context["page"].object_list
        assert hit.pk not in {h.pk for h in listed}, role
    hit.refresh_from_db()
    assert hit.status == RecheckHit.Status.OPEN


def test_the_queue_filters_by_county_rule_and_department_in_the_url(client, hits):
    client.force_login(make_staff("r-city", "city", region=estate_of(hits[0]).district.parent))
    county = hits[0].county_id
    page = client.get(reverse("recheck"), {"county": county}).context["page"]
    assert {h.county_id for h in page.object_list} == {county}
    page = client.get(reverse("recheck"), {"rule": "business_count"}).context["page"]
    assert page.paginator.count >= 1
    assert {h.criterion for h in page.object_list} == {"business_count"}
    page = client.get(reverse("recheck"), {"department": "tax"}).context["page"]
    assert {h.department for h in page.object_list} == {"tax"}
    html = client.get(reverse("recheck-hit", args=[page.object_list[0].pk])).content.decode()
    assert "家庭人均月收入" in html and "税务" in html and "不符合标准" in html
    assert page.object_list[0].payload_hash in html


def test_the_queue_costs_the_same_queries_for_many_hits(
    client, hits, django_assert_max_num_queries
):
    assert len(hits) >= 5
    client.force_login(make_staff("r-city", "city", region=estate_of(hits[0]).district.parent))
    for url in (reverse("recheck"), reverse("recheck") + "?status=all", reverse("recheck-runs")):
        with django_assert_max_num_queries(12):
            assert client.get(url).status_code == 200, url


def test_the_county_dismisses_a_false_positive_with_a_reason(client, hits):
    hit = hits[0]
    estate = estate_of(hit)
    community = make_staff("r-community", "community", region=estate.community or estate.street)
    client.force_login(community)
    assert "核实处理" not in client.get(reverse("recheck-hit", args=[hit.pk])).content.decode()
    client.post(reverse("recheck-decide", args=[hit.pk]), {"action": "dismiss", "reason": "核实"})
    hit.refresh_from_db()
    assert hit.status == "open", "a community follows the queue but does not judge"
    client.force_login(make_staff("r-district", "district", region=estate.district))
    response = client.post(reverse("recheck-decide", args=[hit.pk]), {"action": "dismiss"})
    hit.refresh_from_db()
    assert hit.status == "open" and response.status_code == 302, "a reason is required"
    client.post(
        reverse("recheck-decide", args=[hit.pk]),
        {"action": "dismiss", "reason": "入户核实：收入为一次性劳务报酬"},
    )
    hit.refresh_from_db()
    assert hit.status == "dismissed" and hit.reason.startswith("入户核实")
    event = Event.objects.get(action="recheck.dismissed", household_id=hit.household_id)
    assert event.reason.startswith("入户核实") and event.unit_id == hit.contract.unit_id


def test_no_longer_eligible_starts_the_exit_of_the_lease(client, hits):
    exits = pytest.importorskip("tenancy.services.exits")
    hit = next(h for h in hits if h.criterion == "income_per_head")
    client.force_login(make_staff("r-district", "district", region=estate_of(hit).district))
    client.post(
        reverse("recheck-decide", args=[hit.pk]),
        {"action": "exit", "reason": "收入连续超标，已不符合保障条件"},
    )
    hit.refresh_from_db()
    assert hit.status == RecheckHit.Status.EXIT_STARTED, hit.status
    exit_ = exits.Exit.objects.get(contract_id=hit.contract_id)
    assert exit_.reason == "ineligible" and exit_.source_ref == f"recheck:{hit.pk}"
    assert hit.follow_up == f"exit:{exit_.pk}"


def test_concealment_opens_a_violation_case(client, hits):
    violations = pytest.importorskip("tenancy.services.violations")
    hit = next(h for h in hits if h.criterion == "business_count")
    client.force_login(make_staff("r-district", "district", region=estate_of(hit).district))
    client.post(
        reverse("recheck-decide", args=[hit.pk]),
        {"action": "case", "reason": "申请时未申报名下企业"},
    )
    hit.refresh_from_db()
    assert hit.status == RecheckHit.Status.CASE_OPENED, hit.status
    case = violations.ViolationCase.objects.get(source_ref=f"recheck:{hit.pk}")
    assert case.kind.code == recheck.CASE_KIND and case.source == "recheck"
    assert case.contract_id == hit.contract_id and case.household_id == hit.household_id
    assert hit.follow_up == f"violation:{case.pk}"
    # The lease runs on: a case is investigated before anything happens to it.
    assert Contract.objects.get(pk=hit.contract_id).status == Contract.Status.ACTIVE


def test_the_staff_home_counts_open_hits_and_an_interrupted_run(hits):
    estate = estate_of(hits[0])
    district = make_staff("r-district", "district", region=estate.district)
    tasks = pending_tasks(district)
    mine = RecheckHit.objects.filter(estate_scope(district, SCOPE), status="open").count()
    assert tasks[0].count == mine > 0 and tasks[0].url == reverse("recheck")
    assert len(tasks) == 1
    RecheckRun.objects.create(
        started_at=hits[0].first_seen_at, status="interrupted", source="x", error="税务：超时"
    )
    assert pending_tasks(district)[1].urgent


def test_the_export_is_the_filtered_queue_and_runs_no_formula(client, hits):
    import csv
    import io

    from housing.models import Household

    hit = next(h for h in hits if h.criterion == "business_count")
    Household.objects.filter(pk=hit.household_id).update(head_name='=HYPERLINK("http://x")')
    client.force_login(make_staff("r-city", "city", region=estate_of(hit).district.parent))
    response = client.get(reverse("recheck"), {"rule": "business_count", "format": "csv"})
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["合同编号", "承租人"]
    assert len(rows) - 1 == RecheckHit.objects.filter(criterion="business_count").count()
    assert {r[5] for r in rows[1:]} == {"登记企业数"}
    named = next(r for r in rows[1:] if r[0] == hit.contract.number)
    assert not named[1].startswith("="), "a name cannot run as a formula"


def test_the_county_can_queue_a_run_now_once(client, hits):
    from procrastinate.contrib.django.models import ProcrastinateJob

    estate = estate_of(hits[0])
    client.force_login(make_staff("r-community", "community", region=estate.community))
    assert client.post(reverse("recheck-run-now")).status_code == 403
    assert "立即核查" not in client.get(reverse("recheck-runs")).content.decode()
    client.force_login(make_staff("r-district", "district", region=estate.district))
    assert "立即核查" in client.get(reverse("recheck-runs")).content.decode()
    for _ in range(2):
        assert client.post(reverse("recheck-run-now")).status_code == 302
    jobs = ProcrastinateJob.objects.filter(task_name="tenancy.tasks.recheck_tenants", status="todo")
    assert jobs.count() == 1, "a queued run is not queued twice"
    assert Event.objects.filter(action="recheck.requested").count() == 1
