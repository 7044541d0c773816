"""Changing a county's rules: one write per section, atomic, with the row locked, recording
`policy.changed` with exactly the fields that changed (from → to) and the reason given.

The services read these rows on every use (housing.services.policy_for, the eligibility rules
in the data check and the self-check, allocation's and tenancy's policy_for), so a change
applies to the next decision taken; steps already entered keep the deadline they were given.
The one stored consequence, each waiting household's priority rank, is recomputed with the
priority groups in the same transaction.
"""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from allocation.models import AllocationPolicy
from allocation.services import waitlist
from archive.services import record_event
from backoffice.system import scope
from geo.models import Region
from housing.models import CountyPolicy, EligibilityRule
from tenancy.models import ReviewPolicy, TenancyPolicy

SECTION_LABELS = {
    "review": "审核流程与公示",
    "eligibility": "准入条件",
    "allocation": "轮候与配租规则",
    "priority_groups": "优先轮候群体",
    "size_rules": "户型配租标准",
    "tenancy": "租赁与租金规则",
    "subsidy_tiers": "租金补贴档次",
    "reviews": "年审与续租规则",
}
# The fields each section edits (the lists are checked row by row in policy_lists).
FIELDS = {
    "allocation": [
        "round_method",
        "waiting_limit_months",
        "offer_working_days",
        "slot_minutes",
        "refusal_limit",
        "refusal_consequence",
        "suspend_days",
    ],
    "tenancy": [
        "max_term_months",
        "deposit_months",
        "due_day",
        "arrears_warning_months",
        "exit_notice_days",
        "transition_months",
        "market_rent_factor",
        "reminder_days",
    ],
    "reviews": ["answer_days", "renewal_notice_months", "reminder_days"],
    "priority_groups": ["priority_groups"],
    "size_rules": ["size_rules"],
    "subsidy_tiers": ["subsidy_tiers"],
}
MODELS = {
    "allocation": AllocationPolicy,
    "tenancy": TenancyPolicy,
    "reviews": ReviewPolicy,
    "priority_groups": AllocationPolicy,
    "size_rules": AllocationPolicy,
    "subsidy_tiers": TenancyPolicy,
}


class NotAllowed(Exception):
    """The county is outside the actor's area, or the actor is no account administrator."""


def _plain(value) -> object:
    return str(value) if isinstance(value, Decimal) else value


def current(county: Region, section: str) -> dict:
    """The section's values as the form shows them and the archive records them."""
    if section == "review":
        policy = CountyPolicy.objects.filter(county=county).first() or CountyPolicy(county=county)
        values = {"publicity_working_days": policy.publicity_working_days}
        for step in policy.review_chain:
            if step["step"] != "publicity":
                values[f"days:{step['step']}"] = step.get("days") or 0
        return values
    if section == "eligibility":
        return {
            rule.criterion: f"{rule.operator} {rule.threshold} {rule.unit}".strip()
            for rule in EligibilityRule.objects.filter(county=county)
        }
    model = MODELS[section]
    policy = model.objects.filter(county=county).first() or model(county=county)
    return {name: _plain(getattr(policy, name)) for name in FIELDS[section]}


def _write(county: Region, section: str, values: dict) -> None:
    if section == "review":
        policy, _ = CountyPolicy.objects.select_for_update().get_or_create(county=county)
        policy.publicity_working_days = values["publicity_working_days"]
        chain = [dict(step) for step in policy.review_chain]
        for step in chain:
            key = f"days:{step['step']}"
            if key in values:
                step["days"] = values[key]
        policy.review_chain = chain
        policy.save()
        return
    if section == "eligibility":
        rules = {
            r.criterion: r
            for r in EligibilityRule.objects.select_for_update().filter(county=county)
        }
        for criterion in EligibilityRule.Criterion.values:
            wanted = values.get(criterion)
            rule = rules.get(criterion)
            if wanted is None:
                if rule is not None:
                    rule.delete()
                continue
            operator, threshold, unit = wanted
            rule = rule or EligibilityRule(county=county, criterion=criterion)
            rule.operator, rule.threshold, rule.unit = operator, threshold, unit
            rule.save()
        return
    model = MODELS[section]
    policy, _ = model.objects.select_for_update().get_or_create(county=county)
    for name in FIELDS[section]:
        setattr(policy, name, values[name])
    policy.save()
    if section == "priority_groups":
        waitlist.rerank(county, policy.priority_groups)
    if section in ("allocation", "priority_groups"):
        # The public waitlist states the waiting limit and the order.
        waitlist.mark_changed(county.pk)


@transaction.atomic
def change_policy(
    county: Region, section: str, values: dict, *, reason: str, actor: AbstractBaseUser
) -> dict:
    """Save one section; returns the changed fields as {field: (before, after)} (empty: no
    change, nothing recorded)."""
    if not scope.is_admin(actor) or not scope.counties_in_area(actor).filter(pk=county.pk).exists():
        raise NotAllowed("该区县不在您的管辖范围内，或您不是账号管理员。")
    if not reason.strip():
        raise NotAllowed("修改原因：请写明修改原因。")
    before = current(county, section)
    _write(county, section, values)
    after = current(county, section)
    changed = {
        k: (before.get(k), after.get(k)) for k in before | after if before.get(k) != after.get(k)
    }
    if changed:
        record_event(
            "policy.changed",
            f"{county.name}{SECTION_LABELS[section]}：修改 {len(changed)} 项",
            actor=actor,
            before={k: old for k, (old, _new) in changed.items()},
            after={"county_id": county.pk, "section": section}
            | {k: new for k, (_old, new) in changed.items()},
            reason=reason.strip(),
        )
    return changed
