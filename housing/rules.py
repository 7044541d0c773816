"""Eligibility: facts found in department data, checked against a county's rules.

The same `apply_rules` serves the staff data check and the public self-check.
"""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from exchange.sources import Answer
from exchange.synthetic import DEPARTMENTS
from housing.models import EligibilityRule

SOURCE_OF = {
    "income_per_head": "tax",
    "area_per_head": "property",
    "property_count": "property",
    "vehicle_value": "police",
    "business_count": "market",
    "residence_years": "police",
    "insured_years": "social",
}


@dataclass
class Finding:
    criterion: str
    label: str
    operator: str
    threshold: Decimal
    unit: str
    found: Decimal | None
    source: str
    passed: bool

    def as_dict(self) -> dict:
        return {
            "criterion": self.criterion,
            "label": self.label,
            "operator": self.operator,
            "threshold": str(self.threshold),
            "unit": self.unit,
            "found": None if self.found is None else str(self.found),
            "source": self.source,
            "passed": self.passed,
        }


def _d(value) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def facts_from_answers(answers: dict[str, Answer], members: int) -> dict[str, Decimal]:
    """The values the rules compare, computed from what each department answered.

    A department that answered nothing gives no fact (and its rules fail): an empty record
    must not read as "no income, no property".
    """
    members = max(members, 1)
    police = answers["police"].payload
    property_ = answers["property"].payload
    tax = answers["tax"].payload
    market = answers["market"].payload
    social = answers["social"].payload
    facts: dict[str, Decimal] = {}
    if "monthly_income" in tax:
        facts["income_per_head"] = _d(Decimal(str(tax["monthly_income"])) / members)
    if "properties" in property_:
        owned = property_["properties"]
        facts["area_per_head"] = _d(sum(Decimal(str(p["area"])) for p in owned) / members)
        facts["property_count"] = _d(len(owned))
    if "vehicles" in police:
        facts["vehicle_value"] = _d(sum(v.get("value", 0) for v in police["vehicles"]))
    if "hukou_since" in police:
        facts["residence_years"] = _d(date.today().year - int(police["hukou_since"]))
    if "businesses" in market:
        facts["business_count"] = _d(len(market["businesses"]))
    if "insured_months" in social:
        facts["insured_years"] = _d(Decimal(str(social["insured_months"])) / 12)
    return facts


def passes(rule: EligibilityRule, value: Decimal) -> bool:
    if rule.operator == EligibilityRule.Operator.AT_MOST:
        return value <= rule.threshold
    return value >= rule.threshold


def apply_rules(
    rules: list[EligibilityRule], facts: dict[str, Decimal], sources: dict | None = None
) -> list[Finding]:
    """One finding per rule; a missing fact fails its rule (nothing is assumed)."""
    findings = []
    for rule in rules:
        value = facts.get(rule.criterion)
        department = SOURCE_OF[rule.criterion]
        findings.append(
            Finding(
                criterion=rule.criterion,
                label=rule.get_criterion_display(),
                operator=rule.get_operator_display(),
                threshold=rule.threshold,
                unit=rule.unit,
                found=value,
                source=(sources or {}).get(department) or DEPARTMENTS[department],
                passed=value is not None and passes(rule, value),
            )
        )
    return findings
