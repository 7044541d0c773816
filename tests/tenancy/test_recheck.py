"""动态核查: the run finds exactly the tenant households whose department records break one of
their county's rules (checked by brute force, one single query per person), resumes after the
platform goes down without doubling a hit, and never touches a lease or a unit."""

import subprocess
import sys
from datetime import date, timedelta

import pytest

from exchange.idcard import make_id_number
from exchange.sources import HttpJsonSource, SyntheticSource
from exchange.synthetic import DEPARTMENTS
from geo.models import Unit
from housing import rules
from housing.errors import NotAllowed
from housing.models import EligibilityRule, Household
from tenancy.models import Contract, RecheckHit, RecheckRun
from tenancy.services import recheck
from tests.conftest import ROOT

APP, SECRET = "anju-demo", "anju-demo-secret"
# Reserved synthetic sequences (exchange.synthetic.FAILS) and a rule each one breaks.
PLANTED = {
    "901": "property_count",
    "902": "vehicle_value",
    "903": "income_per_head",
    "904": "business_count",
}


def forget_rechecks() -> None:
    """The demo's own re-check (load_demo runs one) removed: each test starts from none."""
    RecheckHit.objects.all().delete()
    RecheckRun.objects.filter(resumed_from__isnull=False).delete()
    RecheckRun.objects.all().delete()


@pytest.fixture(autouse=True)
def _no_demo_rechecks(db) -> None:
    forget_rechecks()


def plant_failures() -> dict[int, str]:
    """Give a few tenant households a head whose synthetic records break a rule their county
    has (test data only): household id -> the criterion expected to break."""
    planted = {}
    contracts = Contract.objects.filter(status=Contract.Status.ACTIVE).select_related(
        "household__county"
    )
    rules_of = {}
    for rule in EligibilityRule.objects.all():
        rules_of.setdefault(rule.county_id, set()).add(rule.criterion)
    for sequence, criterion in PLANTED.items():
        contract = next(
            c
            for c in contracts.order_by("household_id")
            if criterion in rules_of.get(c.household.county_id, ())
            and c.household_id not in planted
        )
        household = contract.household
        household.head_id_number = make_id_number(
            household.county.adcode, date(1971, 3, 5) + timedelta(days=len(planted)), int(sequence)
        )
        household.save(update_fields=["head_id_number", "head_id_index"])
        planted[household.pk] = criterion
    return planted


def brute_force(source) -> set[tuple[int, str]]:
    """Every (household, criterion) broken, asking each department about each person singly
    and applying the county's rules as the data check of an application does."""
    broken = set()
    for contract in Contract.objects.filter(status=Contract.Status.ACTIVE).select_related(
        "household"
    ):
        household = contract.household
        answers = {d: source.fetch(d, household.head_id_number) for d in DEPARTMENTS}
        members = max(len(answers["police"].payload.get("members") or []), 1)
        facts = rules.facts_from_answers(answers, members)
        county_rules = list(EligibilityRule.objects.filter(county=household.county_id))
        for finding in rules.apply_rules(county_rules, facts):
            if finding.found is not None and not finding.passed:
                broken.add((household.pk, finding.criterion))
    return broken


def open_hits() -> list[tuple[int, str]]:
    return list(
        RecheckHit.objects.filter(status=RecheckHit.Status.OPEN).values_list(
            "household_id", "criterion"
        )
    )


def platform(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange.demo_platform", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()  # "demo data platform on http://127.0.0.1:PORT"
    return proc, line.strip().rsplit(" ", 1)[-1]


def test_the_recheck_finds_exactly_the_households_that_break_a_rule(db, data_platform):
    planted = plant_failures()
    source = HttpJsonSource(data_platform, APP, SECRET, timeout=5)
    leases = dict(Contract.objects.values_list("pk", "status"))
    units = dict(Unit.objects.values_list("pk", "status"))
    run = recheck.run_recheck(actor=None, source=source, batch=25)
    assert run.status == RecheckRun.Status.FINISHED
    expected = brute_force(source)
    assert sorted(open_hits()) == sorted(expected)
    assert {(h, c) for h, c in planted.items()} <= expected, "every planted failure is found"
    assert len({c for _, c in expected}) >= 4, "several different rules are broken"
    assert run.total == run.done == Contract.objects.filter(status="active").count()
    assert run.hits_new == len(expected)
    # Warnings only: no lease and no unit changed.
    assert dict(Contract.objects.values_list("pk", "status")) == leases
    assert dict(Unit.objects.values_list("pk", "status")) == units
    hit = RecheckHit.objects.get(
        household_id=next(iter(planted)), criterion="property_count", status="open"
    )
    assert hit.evidence["department"] == "property"
    assert hit.evidence["fields"]["properties"][0]["area"] == 96.0
    assert len(hit.payload_hash) == 64 and hit.payload_hash == hit.evidence["payload_hash"]
    assert hit.finding["found"] == "1.00" and hit.finding["threshold"] == "0.00"


def test_a_second_run_refreshes_open_hits_instead_of_doubling_them(db):
    plant_failures()
    first = recheck.run_recheck(actor=None, source=SyntheticSource(), batch=20)
    before = sorted(open_hits())
    second = recheck.run_recheck(actor=None, source=SyntheticSource(), batch=20)
    assert second.resumed_from is None, "the first finished: the second starts over"
    assert sorted(open_hits()) == before
    assert second.hits_new == 0 and second.hits_refreshed == first.hits_new
    assert set(RecheckHit.objects.values_list("seen_count", flat=True)) == {2}
    assert set(RecheckHit.objects.values_list("last_run", flat=True)) == {second.pk}


def test_platform_down_mid_run_then_the_next_run_resumes_without_duplicates(db, data_platform):
    planted = plant_failures()
    total = Contract.objects.filter(status="active").count()
    batch = 10
    assert total > 3 * batch
    # Eight departments a batch: the platform answers two batches, then goes down.
    failing, url = platform("--fail-after", str(2 * len(DEPARTMENTS)))
    try:
        source = HttpJsonSource(url, APP, SECRET, timeout=3, retries=1, backoff=0.05)
        run = recheck.run_recheck(actor=None, source=source, batch=batch)
    finally:
        failing.terminate()
        failing.wait(timeout=10)
    assert run.status == RecheckRun.Status.INTERRUPTED
    assert run.done == 2 * batch and run.last_household > 0
    assert "数据共享平台暂时无法访问" in run.error
    assert any(label in run.error for label in DEPARTMENTS.values())
    partial = set(open_hits())
    assert all(h <= run.last_household for h, _ in partial)
    healthy = HttpJsonSource(data_platform, APP, SECRET, timeout=5)
    resumed = recheck.run_recheck(actor=None, source=healthy, batch=batch)
    assert resumed.status == RecheckRun.Status.FINISHED
    assert resumed.resumed_from_id == run.pk
    assert resumed.done == resumed.total == total
    assert resumed.hits_refreshed == 0, "the households done before were not asked again"
    hits = open_hits()
    assert len(hits) == len(set(hits)), "no duplicate hit"
    assert set(hits) == brute_force(healthy)
    assert set(planted.items()) <= set(hits)
    # The part checked before the outage kept its hits from the first run.
    assert (
        set(RecheckHit.objects.filter(first_run=run).values_list("household_id", "criterion"))
        == partial
    )


def test_a_judged_hit_stays_judged_while_the_answer_is_the_same(db, cast):
    plant_failures()
    recheck.run_recheck(actor=None, source=SyntheticSource())
    hit = RecheckHit.objects.filter(status="open").order_by("pk").first()
    with pytest.raises(NotAllowed, match="处理意见"):
        recheck.dismiss(hit.pk, reason=" ", actor=cast.users["city"])
    with pytest.raises(NotAllowed, match="住房保障部门"):
        recheck.dismiss(hit.pk, reason="入户核实", actor=cast.users["community"])
    recheck.dismiss(hit.pk, reason="入户核实，收入为一次性所得", actor=cast.users["city"])
    with pytest.raises(NotAllowed, match="已处理"):
        recheck.dismiss(hit.pk, reason="再次", actor=cast.users["city"])
    again = recheck.run_recheck(actor=None, source=SyntheticSource())
    assert not RecheckHit.objects.filter(
        household_id=hit.household_id, criterion=hit.criterion, status="open"
    ).exists()
    hit.refresh_from_db()
    assert hit.status == "dismissed" and hit.resolved_by == cast.users["city"]
    assert again.hits_new == 0


def test_a_hit_clears_when_the_county_rule_is_met_again(db):
    planted = plant_failures()
    recheck.run_recheck(actor=None, source=SyntheticSource())
    household_id = next(h for h, c in planted.items() if c == "business_count")
    county = Household.objects.get(pk=household_id).county_id
    EligibilityRule.objects.filter(county=county, criterion="business_count").update(threshold=5)
    run = recheck.run_recheck(actor=None, source=SyntheticSource())
    hit = RecheckHit.objects.get(household_id=household_id, criterion="business_count")
    assert hit.status == RecheckHit.Status.CLEARED and run.hits_cleared >= 1


def test_only_one_run_at_a_time(db, django_db_blocker):
    from django.db import connections

    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [recheck.LOCK_KEY])
        with pytest.raises(NotAllowed, match="正在进行"):
            recheck.run_recheck(actor=None, source=SyntheticSource())
    finally:
        other.close()


def test_the_demo_leaves_hits_to_work_through_without_a_platform(db, settings):
    from tenancy import demo_recheck

    settings.ANJU_DATA_PLATFORM_URL = "http://127.0.0.1:9"  # nobody answers: computed locally
    summary = demo_recheck.load(date.today())
    assert RecheckHit.objects.filter(status="open").exists()
    assert RecheckHit.objects.filter(status="dismissed").count() == 1
    assert "条待核实疑点" in summary and "演示数据" in summary
    run = RecheckRun.objects.get()
    assert run.status == "finished" and run.done == run.total > 0
