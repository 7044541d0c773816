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


@given(threshold=MONEY, value=MONEY)
def test_at_most_passes_up_to_and_including_the_threshold(threshold, value):
    rule = EligibilityRule(criterion="income_per_head", operator="lte", threshold=threshold)
    assert passes(rule, value) == (value <= threshold)
    assert passes(rule, threshold)


@given(threshold=MONEY, value=MONEY)
def test_at_least_passes_from_the_threshold_up(threshold, value):
    rule = EligibilityRule(criterion="residence_years", operator="gte", threshold=threshold)
    assert passes(rule, value) == (value >= threshold)
    assert passes(rule, threshold)


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
