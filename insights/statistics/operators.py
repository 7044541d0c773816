"""运营单位考核 in figures: each operator's quarterly score over the period."""

from django.utils.translation import gettext as _

from geo.models import Estate
from insights.statistics.base import Dashboard, Period, Scope, Table
from tenancy.models import OperatorScore


def quarters(period: Period) -> list[str]:
    """The quarters ("2026Q3") the period's months fall in, in order."""
    seen: list[str] = []
    for month in period.months():
        q = f"{month.year}Q{(month.month - 1) // 3 + 1}"
        if q not in seen:
            seen.append(q)
    return seen


def operators(scope: Scope, period: Period) -> Dashboard:
    """Scores of the operators running estates in scope (an operator sees its own), one column
    per quarter; a score is the operator's city-wide one, not its score in one county."""
    wanted = quarters(period)
    running = Estate.objects.filter(scope.estates(), operator__isnull=False).values("operator_id")
    scores = (
        OperatorScore.objects.filter(operator_id__in=running, quarter__in=wanted)
        .values_list("operator__name", "quarter", "score")
        .order_by("operator__name")
    )
    table: dict[str, dict[str, object]] = {}
    for name, quarter, score in scores:
        table.setdefault(name, {})[quarter] = score
    rows = [[name, *(by_quarter.get(q) for q in wanted)] for name, by_quarter in table.items()]
    return Dashboard(
        "operators",
        _("运营单位考核"),
        [
            Table(
                "scores",
                _("季度考核得分"),
                [_("运营单位"), *wanted],
                rows,
                series=list(range(1, len(wanted) + 1)),
            )
        ],
        note=_("在统计范围内运营项目的单位；得分为全市统一考核的季度得分。"),
    )
