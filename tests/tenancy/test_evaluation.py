"""考核评价: each metric against a brute-force count over the same rows, the score from the
city's weights, computing and publishing a quarter, and the public page without personal data."""

import json
from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from disclosure.models import Kind, Outbox
from geo.models import Estate, Operator, Region, Unit
from housing.errors import NotAllowed
from tenancy.models import Bill, Contract, EvaluationRules, OperatorScore
from tenancy.services import billing, evaluation
from tenancy.services.evaluation import Quarter
from tests.personas import make_staff
from tests.tenancy.rent import lease

pytestmark = pytest.mark.django_db

QUARTER = Quarter.of(timezone.localdate()).previous()
FIRST, AFTER = QUARTER.first, QUARTER.after
START, END = QUARTER.span()


def at(days: float) -> datetime:
    return START + timedelta(days=days)


def close(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(abs(a[k] - b[k]) < 1e-6 for k in a)


@pytest.fixture
def quarter_facts(db):
    """Leases moving in and out during the quarter, its bills part paid, repairs, complaints
    and re-check hits on the estates of several operators. The demo's scores of that quarter
    (published by load_demo) are set aside: the test scores it afresh."""
    OperatorScore.objects.filter(quarter=QUARTER.name).delete()
    a = lease(start=FIRST - timedelta(days=400), end=FIRST + timedelta(days=20), skip=0)
    b = lease(start=FIRST + timedelta(days=35), skip=1)
    c = lease(start=FIRST - timedelta(days=30), ended_on=FIRST + timedelta(days=50), skip=2)
    Contract.objects.filter(pk=c.pk).update(status=Contract.Status.ENDED)
    Contract.objects.filter(pk=a.pk).update(status=Contract.Status.ENDED)
    d = lease(county="341621", start=FIRST - timedelta(days=100), skip=0)
    month = FIRST
    while month < AFTER:
        billing.issue_bills(month, actor=None, on=month)
        month = billing.next_month(month)
    for n, bill in enumerate(Bill.objects.filter(month__gte=FIRST, month__lt=AFTER)[:40]):
        paid = bill.amount if n % 3 else bill.amount / 2
        Bill.objects.filter(pk=bill.pk).update(paid=paid.quantize(Decimal("0.01")))
    _repairs([a, b, d])
    _complaints([a, d])
    _hits([a, b, d])
    return [a, b, c, d]


def _repairs(contracts):
    from tenancy.models import Repair, RepairCategory

    category, _ = RepairCategory.objects.get_or_create(
        code="eval-test", defaults={"name": "水电", "respond_hours": 24, "complete_hours": 72}
    )
    plans = [(1, 0.5, 2.0), (10, 0.25, None), (20, None, None), (30, 2.0, 9.0), (-5, 1, 2)]
    for n, (day, assigned, closed) in enumerate(plans):
        contract = contracts[n % len(contracts)]
        estate = contract.unit.building.estate
        reported = at(day)
        Repair.objects.create(
            number=f"BX-EVAL-{n}",
            unit=contract.unit,
            estate=estate,
            operator_id=estate.operator_id,
            contract=contract,
            household=contract.household,
            category=category,
            description="测试",
            source="staff",
            status="closed" if closed else ("assigned" if assigned else "reported"),
            respond_by=reported + timedelta(hours=24),
            complete_by=reported + timedelta(hours=72),
            reported_at=reported,
            assigned_at=reported + timedelta(days=assigned) if assigned else None,
            closed_at=reported + timedelta(days=closed) if closed else None,
        )


def _complaints(contracts):
    from tenancy.models import Complaint

    for n, day in enumerate([3, 40, 80, -10, 95]):
        estate = contracts[n % len(contracts)].unit.building.estate
        complaint = Complaint.objects.create(
            reference=f"JB-EVAL-{n}", estate=estate, county=estate.district, text="举报"
        )
        Complaint.objects.filter(pk=complaint.pk).update(created_at=at(day))


def _hits(contracts):
    from tenancy.models.recheck import RecheckHit, RecheckRun

    run = RecheckRun.objects.create(started_at=at(1), source="测试", status="finished")
    for n, (day, resolved) in enumerate([(2, 5), (30, None), (60, 1.5), (-3, 2)]):
        contract = contracts[n % len(contracts)]
        RecheckHit.objects.create(
            household=contract.household,
            contract=contract,
            county=contract.household.county,
            criterion="property",
            department="不动产",
            finding={},
            evidence={},
            payload_hash=f"{n:064d}",
            first_run=run,
            last_run=run,
            first_seen_at=at(day),
            last_seen_at=at(day),
            resolved_at=at(day + resolved) if resolved else None,
            status="dismissed" if resolved else "open",
        )


def _operator_of(contract) -> int:
    return contract.unit.building.estate.operator_id


# --- each metric against a brute-force count --------------------------------------------------


def test_collection_rate_is_paid_over_billed_of_the_quarters_bills(quarter_facts):
    billed: dict[int, Decimal] = {}
    paid: dict[int, Decimal] = {}
    for bill in Bill.objects.filter(month__gte=FIRST, month__lt=AFTER).select_related(
        "contract__unit__building__estate"
    ):
        op = _operator_of(bill.contract)
        if op is None:
            continue
        billed[op] = billed.get(op, 0) + bill.amount
        paid[op] = paid.get(op, 0) + bill.paid
    expected = {op: float(paid[op] / billed[op]) for op in billed if billed[op]}
    assert close(evaluation.collection_rate(QUARTER), expected)
    assert any(v < 1 for v in expected.values())


def test_vacancy_days_count_every_day_a_unit_had_no_tenant(quarter_facts):
    days = [FIRST + timedelta(days=n) for n in range((AFTER - FIRST).days)]
    spans: dict[int, list[tuple]] = {}
    for c in Contract.objects.filter(
        check_in_date__isnull=False, status__in=[Contract.Status.ACTIVE, Contract.Status.ENDED]
    ):
        if c.ended_on:
            last = c.ended_on
        elif c.status == Contract.Status.ACTIVE:
            last = AFTER
        else:
            last = c.end_date
        spans.setdefault(c.unit_id, []).append((c.check_in_date, last))
    total: dict[int, int] = {}
    units: dict[int, int] = {}
    for pk, op, status in Unit.objects.filter(building__estate__operator__isnull=False).values_list(
        "pk", "building__estate__operator_id", "status"
    ):
        if status == Unit.Status.OCCUPIED and pk not in spans:
            continue
        own = spans.get(pk, [])
        vacant = sum(1 for d in days if not any(s <= d <= e for s, e in own))
        total[op] = total.get(op, 0) + vacant
        units[op] = units.get(op, 0) + 1
    expected = {op: total[op] / units[op] for op in units}
    assert close(evaluation.vacancy_days(QUARTER, today=AFTER + timedelta(days=5)), expected)
    # A unit that moved in mid-quarter was vacant until then.
    b = quarter_facts[1]
    assert not any(s <= FIRST <= e for s, e in spans[b.unit_id])


def _mean_by_operator(rows, value) -> dict[int, float]:
    sums: dict[int, list[float]] = {}
    for row in rows:
        sums.setdefault(row[0], []).append(value(row))
    return {op: sum(v) / len(v) for op, v in sums.items()}


def test_repair_times_average_the_quarters_reports_open_ones_counted_to_its_end(quarter_facts):
    from tenancy.models import Repair

    rows = [
        (r.operator_id, r.reported_at, r.assigned_at, r.closed_at)
        for r in Repair.objects.filter(reported_at__gte=START, reported_at__lt=END)
        if r.operator_id
    ]
    response = _mean_by_operator(rows, lambda r: ((r[2] or END) - r[1]).total_seconds() / 3600)
    done = _mean_by_operator(rows, lambda r: ((r[3] or END) - r[1]).total_seconds() / 86400)
    assert close(evaluation.repair_response_hours(QUARTER), response)
    assert close(evaluation.repair_completion_days(QUARTER), done)
    assert len(rows) >= 3


def test_complaints_are_counted_per_hundred_units_of_the_quarter(quarter_facts):
    from tenancy.models import Complaint

    units: dict[int, int] = {}
    for op in Unit.objects.filter(building__estate__operator__isnull=False).values_list(
        "building__estate__operator_id", flat=True
    ):
        units[op] = units.get(op, 0) + 1
    counts: dict[int, int] = {}
    for complaint in Complaint.objects.select_related("estate"):
        if START <= complaint.created_at < END and complaint.estate.operator_id:
            counts[complaint.estate.operator_id] = counts.get(complaint.estate.operator_id, 0) + 1
    expected = {op: 100 * counts.get(op, 0) / n for op, n in units.items()}
    assert close(evaluation.complaints_per_100_units(QUARTER), expected)
    assert sum(counts.values()) == 3


def test_recheck_follow_up_averages_days_to_a_decision(quarter_facts):
    from tenancy.models.recheck import RecheckHit

    rows = [
        (_operator_of(h.contract), h.first_seen_at, h.resolved_at)
        for h in RecheckHit.objects.select_related("contract__unit__building__estate")
        if START <= h.first_seen_at < END
    ]
    expected = _mean_by_operator(rows, lambda r: ((r[2] or END) - r[1]).total_seconds() / 86400)
    assert close(evaluation.recheck_follow_up_days(QUARTER), expected)


# --- the score --------------------------------------------------------------------------------


def test_points_are_linear_between_zero_and_full_in_either_direction():
    higher = {"zero": 0.8, "full": 1.0}
    lower = {"zero": 45, "full": 5}
    assert evaluation.metric_points(0.9, higher) == pytest.approx(50)
    assert evaluation.metric_points(0.5, higher) == 0
    assert evaluation.metric_points(1.0, higher) == 100
    assert evaluation.metric_points(25, lower) == pytest.approx(50)
    assert evaluation.metric_points(2, lower) == 100
    assert evaluation.metric_points(None, lower) is None
    rules = {"a": higher | {"weight": 3}, "b": lower | {"weight": 1}}
    # b has no data: the score is a's points alone.
    assert evaluation.total_score({"a": 0.9, "b": None}, rules) == Decimal("50.0")
    assert evaluation.total_score({"a": 1.0, "b": 25}, rules) == Decimal("87.5")
    assert evaluation.total_score({"a": None, "b": None}, rules) is None


def test_a_quarter_is_scored_once_per_operator_recomputed_until_published(quarter_facts):
    call_command("score_operators", quarter=QUARTER.name, stdout=StringIO())
    scores = OperatorScore.objects.filter(quarter=QUARTER.name)
    operators = set(Operator.objects.filter(estates__isnull=False).values_list("pk", flat=True))
    assert set(scores.values_list("operator_id", flat=True)) == operators
    city = Region.objects.get(adcode="341600")
    rules = EvaluationRules.objects.get(city=city).metrics
    for score in scores:
        assert score.score == evaluation.total_score(score.metrics, rules)
    evaluation.score_operators(QUARTER.name, actor=None)
    assert OperatorScore.objects.filter(quarter=QUARTER.name).count() == len(operators)
    assert evaluation.publish(QUARTER.name, actor=None) == len(operators)
    with pytest.raises(NotAllowed, match="已公开"):
        evaluation.score_operators(QUARTER.name, actor=None)
    with pytest.raises(NotAllowed, match="格式"):
        evaluation.score_operators("2026-3", actor=None)
    future = Quarter.of(timezone.localdate() + timedelta(days=120))
    with pytest.raises(NotAllowed, match="尚未开始"):
        evaluation.score_operators(future.name, actor=None)


def test_the_weights_are_the_citys_data(quarter_facts):
    city = Region.objects.get(adcode="341600")
    rules = evaluation.default_rules()
    only_rent = {k: v | {"weight": 1 if k == "collection_rate" else 0} for k, v in rules.items()}
    EvaluationRules.objects.update_or_create(city=city, defaults={"metrics": only_rent})
    scores = evaluation.score_operators(QUARTER.name, actor=None)
    for score in scores:
        rate = score.metrics["collection_rate"]
        expected = evaluation.metric_points(rate, only_rent["collection_rate"])
        assert score.score == (
            None if rate is None else Decimal(str(expected)).quantize(Decimal("0.1"))
        )


# --- the pages --------------------------------------------------------------------------------


def test_the_public_page_shows_published_scores_and_no_personal_data(client, quarter_facts):
    evaluation.score_operators(QUARTER.name, actor=None)
    assert "尚未公开" in client.get("/operators/").content.decode()
    evaluation.publish(QUARTER.name, actor=None)
    page = client.get("/operators/").content.decode()
    for operator in Operator.objects.filter(estates__isnull=False).distinct():
        assert operator.name in page
    for contract in Contract.objects.select_related("household")[:200]:
        assert contract.household.head_name not in page
        assert contract.household.phone not in page
        assert contract.number not in page
    assert "/operators/" in client.get("/").content.decode()
    notice = Outbox.objects.filter(
        kind=Kind.GENERAL_NOTICE, payload__subject__operator_scores=QUARTER.name
    ).latest("pk")  # (the demo published this quarter once already)
    names = {row["operator"] for row in notice.payload["items"]}
    assert names == set(
        Operator.objects.filter(estates__isnull=False).values_list("name", flat=True)
    )
    text = json.dumps(notice.payload, ensure_ascii=False)
    for contract in Contract.objects.select_related("household")[:200]:
        assert contract.household.head_name not in text


def test_staff_see_the_operators_of_their_jurisdiction_and_only_the_city_scores(
    client, quarter_facts
):
    evaluation.score_operators(QUARTER.name, actor=None)
    home = quarter_facts[0].unit.building.estate
    mine = home.operator
    operator = make_staff("eval-op", "operator", operator=mine)
    client.force_login(operator)
    page = client.get("/staff/operations/evaluation/").content.decode()
    assert mine.name in page
    others = Operator.objects.exclude(pk=mine.pk).filter(estates__isnull=False).distinct()
    assert all(o.name not in page for o in others)
    assert (
        client.post("/staff/operations/evaluation/compute/", {"quarter": QUARTER.name}).status_code
        == 403
    )
    district = make_staff("eval-district", "district", region=home.district)
    client.force_login(district)
    page = client.get("/staff/operations/evaluation/").content.decode()
    in_county = set(
        Estate.objects.filter(district=home.district).values_list("operator__name", flat=True)
    )
    assert all(name in page for name in in_county if name)
    assert (
        client.post("/staff/operations/evaluation/publish/", {"quarter": QUARTER.name}).status_code
        == 403
    )
    city = make_staff("eval-city", "city", region=home.district.parent)
    client.force_login(city)
    done = client.post("/staff/operations/evaluation/publish/", {"quarter": QUARTER.name})
    assert done.status_code == 302
    assert OperatorScore.objects.published().filter(quarter=QUARTER.name).exists()


def test_the_city_is_asked_to_score_then_to_publish_last_quarter(quarter_facts):
    from backoffice.evaluation import pending_tasks

    home = quarter_facts[0].unit.building.estate
    city = make_staff("eval-city-2", "city", region=home.district.parent)
    district = make_staff("eval-district-2", "district", region=home.district)
    assert pending_tasks(district) == []
    OperatorScore.objects.filter(quarter=QUARTER.name).delete()
    assert [t.count for t in pending_tasks(city)] == [1]
    scores = evaluation.score_operators(QUARTER.name, actor=city)
    (task,) = pending_tasks(city)
    assert task.count == len(scores) and "待公开" in str(task.label)
    evaluation.publish(QUARTER.name, actor=city)
    assert [t.count for t in pending_tasks(city)] == [0]


def test_the_score_pages_cost_the_same_queries_for_every_operator(
    client, quarter_facts, django_assert_max_num_queries
):
    evaluation.score_operators(QUARTER.name, actor=None)
    evaluation.publish(QUARTER.name, actor=None)
    with django_assert_max_num_queries(6):
        assert client.get("/operators/").status_code == 200
    client.force_login(
        make_staff("eval-city-3", "city", region=Region.objects.get(adcode="341600"))
    )
    with django_assert_max_num_queries(14):
        assert client.get("/staff/operations/evaluation/").status_code == 200
