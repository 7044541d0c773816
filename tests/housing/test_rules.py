"""Eligibility rules: boundaries exactly as published, facts computed from department data."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from hypothesis import given
from hypothesis import strategies as st

from exchange.sources import Answer
from housing.models import EligibilityRule
from housing.rules import apply_rules, facts_from_answers, passes

MONEY = st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False)
D = Decimal


@pytest.mark.parametrize(
    ("operator", "threshold", "value", "expected"),
    [
        # 谯城区: at most 2000 元 per head; the limit itself qualifies, one fen more does not.
        ("lte", D("2000"), D("1999.99"), True),
        ("lte", D("2000"), D("2000.00"), True),
        ("lte", D("2000"), D("2000.01"), False),
        ("lte", D("2000"), D("0"), True),
        # "No property at all": 0 passes, one property fails.
        ("lte", D("0"), D("0"), True),
        ("lte", D("0"), D("1"), False),
        # At least one year of residence: 11 months (0.92) is not enough.
        ("gte", D("1"), D("0.92"), False),
        ("gte", D("1"), D("1.00"), True),
        ("gte", D("1"), D("35"), True),
        ("gte", D("1"), D("0"), False),
    ],
)
def test_rule_boundaries_as_published(operator, threshold, value, expected):
    criterion = "income_per_head" if operator == "lte" else "residence_years"
    rule = EligibilityRule(criterion=criterion, operator=operator, threshold=threshold)
    assert passes(rule, value) is expected


@given(threshold=MONEY, value=MONEY, step=MONEY)
def test_at_most_rules_never_refuse_a_smaller_value(threshold, value, step):
    """Earning less can never cost a household its eligibility; the limit itself passes."""
    rule = EligibilityRule(criterion="income_per_head", operator="lte", threshold=threshold)
    assert passes(rule, threshold)
    if passes(rule, value):
        assert passes(rule, max(value - step, D(0)))
    else:
        assert not passes(rule, value + step)


@given(threshold=MONEY, value=MONEY, step=MONEY)
def test_at_least_rules_never_refuse_a_larger_value(threshold, value, step):
    """Living here longer can never cost eligibility; the minimum itself passes."""
    rule = EligibilityRule(criterion="residence_years", operator="gte", threshold=threshold)
    assert passes(rule, threshold)
    if passes(rule, value):
        assert passes(rule, value + step)
    else:
        assert not passes(rule, max(value - step, D(0)))


def answers(**payloads) -> dict[str, Answer]:
    base = {
        "police": {"members": [{}, {}], "vehicles": [{"value": 30000}], "hukou_since": 2020},
        "property": {"properties": [{"area": 40.5}]},
        "tax": {"monthly_income": 3001},
        "market": {"businesses": []},
        "social": {"insured_months": 30},
    } | payloads
    return {d: Answer(d, "test", None, p) for d, p in base.items()}


def test_facts_from_department_answers():
    facts = facts_from_answers(answers(), members=3)
    assert facts["income_per_head"] == Decimal("1000.33")
    assert facts["area_per_head"] == Decimal("13.50")
    assert facts["property_count"] == 1
    assert facts["vehicle_value"] == 30000
    assert facts["business_count"] == 0
    assert facts["insured_years"] == Decimal("2.50")


def test_facts_round_half_a_fen_up():
    """2000.01 元 for two people is 1000.005 each: shown and compared as 1000.01."""
    facts = facts_from_answers(
        answers(tax={"monthly_income": "2000.01"}, social={"insured_months": 13}), members=2
    )
    assert facts["income_per_head"] == Decimal("1000.01")
    assert facts["insured_years"] == Decimal("1.08")  # 13 / 12 = 1.0833…


def test_no_household_members_counts_as_one():
    facts = facts_from_answers(answers(), members=0)
    assert facts["income_per_head"] == Decimal("3001.00")
    assert facts["area_per_head"] == Decimal("40.50")


def test_a_missing_fact_fails_its_rule():
    rule = EligibilityRule(criterion="income_per_head", operator="lte", threshold=2000)
    (finding,) = apply_rules([rule], {})
    assert not finding.passed and finding.found is None


@pytest.mark.django_db
def test_self_check_applies_the_county_rules_and_stores_nothing(client):
    call_command("load_rules", "data/eligibility-rules.json", commit=True, verbosity=0)
    from housing.models import Application

    county = EligibilityRule.objects.filter(county__adcode="341602").first().county
    params = {
        "county": county.pk,
        "members": 2,
        "monthly_income": "4000",
        "property_area": "0",
        "property_count": 0,
        "vehicle_value": "0",
        "business_count": 0,
        "residence_years": 5,
        "insured_years": "3",
    }
    html = client.get("/self-check/", params).content.decode()
    assert "符合申请条件" in html  # 4000 / 2 = 2000 per head: exactly the 谯城区 limit
    html = client.get("/self-check/", params | {"monthly_income": "4000.02"}).content.decode()
    assert "有不符合的条件" in html and "2000.01" in html
    assert "4000.02" not in str(list(Application.objects.values_list("monthly_income", flat=True)))


@pytest.mark.django_db
def test_rule_files_are_checked_before_anything_is_written(tmp_path):
    from django.core.management import CommandError

    bad = tmp_path / "rules.json"
    bad.write_text(
        '{"counties": {"341602": {"publicity_working_days": 5, "rules": '
        '[{"criterion": "shoe_size", "operator": "lte", "threshold": "x"}]}}}'
    )
    before = list(EligibilityRule.objects.values_list("pk", flat=True))
    with pytest.raises(CommandError, match="3 处问题"):
        call_command("load_rules", str(bad), commit=True, verbosity=0, stderr=io.StringIO())
    assert list(EligibilityRule.objects.values_list("pk", flat=True)) == before
