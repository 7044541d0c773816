"""The warning rules as data (data/warning-rules.json): read, checked, and kept until the file
changes, so a city edits a threshold or switches a rule off without touching code."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

RULES_FILE = Path(settings.BASE_DIR) / "data" / "warning-rules.json"
SEVERITIES = ("high", "medium", "low")
# Each rule's thresholds and whether 0 is a meaningful value for it.
THRESHOLDS: dict[str, dict[str, int]] = {
    "review_overdue": {"days": 0},
    "offer_expiring": {"hours": 1},
    "contract_ending": {"days": 1},
    "arrears": {"months": 1},
    "unit_vacant": {"days": 1},
    "recheck_hit": {"days": 0},
    "annual_review_missed": {"days": 0},
    "repeated_complaints": {"count": 2, "days": 1},
    "publicity_objections": {"days": 0},
}
MAX_THRESHOLD = 36500


class RulesError(ValueError):
    """The rules file cannot be used; the message names the rule and the field."""


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    enabled: bool
    severity: str
    thresholds: dict[str, int] = field(default_factory=dict)


def parse(text: str) -> dict[str, Rule]:
    """Every known rule, in the file's order; any fault raises RulesError and nothing is used."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RulesError(
            _("预警规则文件不是有效的 JSON（第 %(line)s 行）：%(msg)s")
            % {"line": exc.lineno, "msg": exc.msg}
        ) from exc
    rows = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise RulesError(_("预警规则文件应含 “rules” 列表。"))
    rules: dict[str, Rule] = {}
    for n, row in enumerate(rows, start=1):
        rule = _rule(n, row)
        if rule.code in rules:
            raise RulesError(_("第 %(n)s 条规则 “%(code)s” 重复。") % {"n": n, "code": rule.code})
        rules[rule.code] = rule
    missing = [code for code in THRESHOLDS if code not in rules]
    if missing:
        raise RulesError(_("预警规则文件缺少规则：%(codes)s。") % {"codes": "、".join(missing)})
    return rules


def _rule(n: int, row) -> Rule:
    if not isinstance(row, dict):
        raise RulesError(_("第 %(n)s 条规则应为对象。") % {"n": n})
    code = row.get("code")
    if code not in THRESHOLDS:
        raise RulesError(
            _("第 %(n)s 条规则的 code “%(code)s” 不是已知的预警规则（可用：%(known)s）。")
            % {"n": n, "code": code, "known": "、".join(THRESHOLDS)}
        )
    where = _("预警规则 “%(code)s”") % {"code": code}

    def fault(name: str, what: str) -> RulesError:
        return RulesError(
            _("%(where)s 的字段 “%(field)s” %(what)s。")
            % {"where": where, "field": name, "what": what}
        )

    name = row.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 60:
        raise fault("name", _("应为 1 至 60 个字的中文名称"))
    if not isinstance(row.get("enabled"), bool):
        raise fault("enabled", _("应为 true 或 false"))
    if row.get("severity") not in SEVERITIES:
        raise fault("severity", _("应为 high、medium 或 low 之一"))
    given = row.get("thresholds")
    if not isinstance(given, dict):
        raise fault("thresholds", _("应为对象"))
    thresholds = {}
    for key, least in THRESHOLDS[code].items():
        value = given.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise fault(f"thresholds.{key}", _("应为整数"))
        if not least <= value <= MAX_THRESHOLD:
            raise fault(
                f"thresholds.{key}",
                _("应在 %(least)s 至 %(most)s 之间，现为 %(value)s")
                % {"least": least, "most": MAX_THRESHOLD, "value": value},
            )
        thresholds[key] = value
    unknown = sorted(set(given) - set(THRESHOLDS[code]))
    if unknown:
        raise fault(f"thresholds.{unknown[0]}", _("不是此规则的阈值"))
    return Rule(code, name.strip(), row["enabled"], row["severity"], thresholds)


_cache: dict[tuple[str, int], dict[str, Rule]] = {}


def load_rules(path: Path | None = None) -> dict[str, Rule]:
    """The rules from the file, re-read only when it changes."""
    path = Path(path or RULES_FILE)
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError as exc:
        raise RulesError(_("找不到预警规则文件 %(path)s。") % {"path": path}) from exc
    if key not in _cache:
        _cache.clear()
        _cache[key] = parse(path.read_text(encoding="utf-8"))
    return _cache[key]


def rule_names() -> dict[str, str]:
    """code → Chinese name, for labels (every known rule, enabled or not)."""
    return {code: rule.name for code, rule in load_rules().items()}


def threshold(code: str, name: str) -> int:
    """One rule's threshold, so the staff home's "due soon" counts use the warning centre's
    numbers instead of a copy of them."""
    return load_rules()[code].thresholds[name]
