"""信用管理 in figures: dishonesty records by level and county."""

from datetime import date

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from credit.models import Level, Record
from insights.statistics.base import Dashboard, Period, Scope, Table


def credit(scope: Scope, period: Period, today: date | None = None) -> Dashboard:
    """Records decided in the period and repaired in it, and records in effect today, per
    level and per county (the deciding county; streets, communities and operators see none)."""
    today = today or timezone.localdate()
    records = Record.objects.filter(scope.counties_only())
    decided = Q(decided_on__gte=period.first, decided_on__lt=period.end_date)
    repaired = Q(repaired_on__gte=period.first, repaired_on__lt=period.end_date)
    figures = {
        "new": Count("pk", filter=decided),
        "repaired": Count("pk", filter=repaired),
        "effective": Count("pk", filter=Record.in_effect_q(today)),
    }
    relevant = records.filter(decided | repaired | Record.in_effect_q(today))
    by_level = {r["level"]: r for r in relevant.values("level").annotate(**figures).order_by()}
    level_rows = []
    for level, label in Level.choices:
        r = by_level.get(level, {"new": 0, "repaired": 0, "effective": 0})
        level_rows.append([str(label), r["new"], r["repaired"], r["effective"]])
    county_rows = []
    per_level = {
        f"{level}_{k}": Count("pk", filter=Q(level=level) & q)
        for level, _label in Level.choices
        for k, q in (("new", decided), ("effective", Record.in_effect_q(today)))
    }
    for r in relevant.values("county__name").annotate(**per_level).order_by("county__adcode"):
        county_rows.append(
            [r["county__name"]]
            + [r[f"{level}_new"] for level, _label in Level.choices]
            + [r[f"{level}_effective"] for level, _label in Level.choices]
        )
    levels = [str(label) for _level, label in Level.choices]
    return Dashboard(
        "credit",
        _("失信记录"),
        [
            Table(
                "by_level",
                _("按失信等级"),
                [_("失信等级"), _("统计期内新增"), _("统计期内修复"), _("目前有效")],
                level_rows,
                series=[1, 2, 3],
            ),
            Table(
                "by_county",
                _("按认定区县"),
                [
                    _("区县"),
                    *(_("新增：%(level)s") % {"level": lv} for lv in levels),
                    *(_("有效：%(level)s") % {"level": lv} for lv in levels),
                ],
                county_rows,
                chart="stacked",
                series=[1, 2, 3],
            ),
        ],
        note=_("按认定日期、修复日期统计；“目前有效”为今天仍在影响期内且未修复的记录。"),
    )
