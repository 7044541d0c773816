"""A county's allocation rules as data: checked the same way by the loader and the admin, so a
bad rule is refused with the field it concerns before it can misorder a waitlist."""

from housing.models import Application

FIELDS = {
    "priority_groups",
    "round_method",
    "waiting_limit_months",
    "size_rules",
    "offer_working_days",
    "slot_minutes",
    "refusal_limit",
    "refusal_consequence",
    "suspend_days",
}
POSITIVE = {
    "waiting_limit_months": (1, 240),
    "offer_working_days": (1, 60),
    "slot_minutes": (1, 24 * 60),
    "refusal_limit": (1, 10),
    "suspend_days": (1, 3650),
}


def policy_errors(conf: dict) -> list[str]:
    """Every problem of one county's rules, each naming its field in Chinese."""
    errors = [f"未知字段 {key}" for key in sorted(set(conf) - FIELDS)]
    groups = conf.get("priority_groups", [])
    if not isinstance(groups, list) or any(g not in Application.Priority.values for g in groups):
        errors.append(f"priority_groups：只能是 {'、'.join(Application.Priority.values)} 的列表")
    elif len(set(groups)) != len(groups):
        errors.append("priority_groups：有重复的群体")
    if conf.get("round_method", "lottery") not in ("lottery", "waitlist"):
        errors.append("round_method：应为 lottery（摇号）或 waitlist（按轮候顺序）")
    if conf.get("refusal_consequence", "back_of_list") not in ("back_of_list", "suspend"):
        errors.append("refusal_consequence：应为 back_of_list 或 suspend")
    for key, (low, high) in POSITIVE.items():
        value = conf.get(key, low)
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            errors.append(f"{key}：应为 {low} 到 {high} 之间的整数")
    errors += size_rule_errors(conf.get("size_rules", []))
    return errors


def size_rule_errors(rules) -> list[str]:
    """Bands by household size, ascending, the last open-ended; rooms 1–10, min ≤ max."""
    if rules == []:
        return []
    if not isinstance(rules, list):
        return ["size_rules：应为列表"]
    errors, previous = [], 0
    for i, rule in enumerate(rules, start=1):
        where = f"size_rules 第 {i} 条"
        if not isinstance(rule, dict):
            errors.append(f"{where}：应为对象")
            continue
        up_to = rule.get("members_up_to")
        last = i == len(rules)
        if up_to is None and not last:
            errors.append(f"{where}：只有最后一条可以不限人数（members_up_to 为 null）")
        if up_to is not None and (not isinstance(up_to, int) or up_to <= previous):
            errors.append(f"{where}：members_up_to 须为大于上一条的整数")
        if last and up_to is not None:
            errors.append(f"{where}：最后一条须不限人数（members_up_to 为 null）")
        low, high = rule.get("min_rooms"), rule.get("max_rooms")
        if not all(isinstance(v, int) and 1 <= v <= 10 for v in (low, high)) or low > high:
            errors.append(
                f"{where}：min_rooms、max_rooms 须为 1–10 的整数，且 min_rooms 不大于 max_rooms"
            )
        previous = up_to if isinstance(up_to, int) else previous
    return errors
