"""考核评价: each operator's quarterly score from measured facts, weights and targets as data.

One function per metric, each a single set-based query returning {operator_id: value} for
every operator at once. A metric scores 0–100 linearly between the value the city's rules give
0 points and the one that gives full marks; the score is the weighted mean of the metrics that
have data (an operator with no repairs this quarter is not marked down for it).
"""

import json
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Sum, Value
from django.db.models.functions import Coalesce, Least
from django.utils import timezone
from django.utils.translation import gettext

from archive.services import record_event
from geo.models import Operator, Region, Unit
from housing.errors import NotAllowed
from tenancy.models import Bill, EvaluationRules, OperatorScore

WEIGHTS_FILE = Path(settings.BASE_DIR) / "data" / "evaluation-weights.json"
OPERATOR = "contract__unit__building__estate__operator_id"


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter: [first, after) in dates, named like 2026Q3."""

    year: int
    number: int

    @classmethod
    def parse(cls, text: str) -> "Quarter":
        text = (text or "").strip().upper()
        if len(text) != 6 or text[4] != "Q" or not text[:4].isdigit() or text[5] not in "1234":
            raise NotAllowed(f"季度“{text}”格式不对，应写作 2026Q3。")
        return cls(int(text[:4]), int(text[5]))

    @classmethod
    def of(cls, day: date) -> "Quarter":
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def name(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def label(self) -> str:
        """Chinese, for notices and the archive (they are published as written)."""
        return f"{self.year}年第{self.number}季度"

    @property
    def title(self) -> str:
        """The label in the reader's language, for pages."""
        return gettext("%(year)s年第%(number)s季度") % {"year": self.year, "number": self.number}

    @property
    def first(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def after(self) -> date:
        return (
            date(self.year + 1, 1, 1)
            if self.number == 4
            else date(self.year, 3 * self.number + 1, 1)
        )

    def previous(self) -> "Quarter":
        return (
            Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)
        )

    def span(self) -> tuple[datetime, datetime]:
        """The quarter as aware datetimes (local midnights)."""
        return (
            timezone.make_aware(datetime.combine(self.first, time.min)),
            timezone.make_aware(datetime.combine(self.after, time.min)),
        )


def _as_of(quarter: Quarter, now: datetime | None) -> datetime:
    """Open items are measured up to the quarter's end, or now for the running quarter."""
    now = now or timezone.now()
    return min(now, quarter.span()[1])


# --- the metrics ------------------------------------------------------------------------------


def collection_rate(quarter: Quarter) -> dict[int, float]:
    """Paid ÷ billed over the bills of the quarter's months, per operator of the estate."""
    rows = (
        Bill.objects.filter(month__gte=quarter.first, month__lt=quarter.after)
        .exclude(**{f"{OPERATOR}__isnull": True})
        .values(OPERATOR)
        .annotate(billed=Sum("amount"), paid_total=Sum("paid"))
        .order_by()
    )
    return {r[OPERATOR]: float(r["paid_total"] / r["billed"]) for r in rows if r["billed"]}


# Unit-days in the quarter (up to today for the running quarter) not covered by a tenancy from
# its check-in to its end (a running one to the end of time). A unit marked occupied with no
# lease recorded in the system (a tenancy from before it, not yet entered) has no measurable
# occupancy and is left out.
VACANCY_SQL = """
WITH units AS (
    SELECT u.id, e.operator_id,
           %(first)s::date AS from_day,
           LEAST(%(after)s::date, %(today)s::date + 1) AS to_day
    FROM geo_unit u
    JOIN geo_building b ON b.id = u.building_id
    JOIN geo_estate e ON e.id = b.estate_id
    WHERE e.operator_id IS NOT NULL
      AND (u.status <> 'occupied'
           OR EXISTS (SELECT 1 FROM tenancy_contract k
                      WHERE k.unit_id = u.id AND k.check_in_date IS NOT NULL))
), occupied AS (
    SELECT c.unit_id,
           range_agg(daterange(
               c.check_in_date,
               CASE WHEN c.ended_on IS NOT NULL THEN c.ended_on + 1
                    WHEN c.status = 'active' THEN NULL
                    ELSE c.end_date + 1 END
           )) AS spans
    FROM tenancy_contract c
    WHERE c.check_in_date IS NOT NULL AND c.status IN ('active', 'ended')
    GROUP BY c.unit_id
)
SELECT un.operator_id,
       count(*) AS units,
       sum((un.to_day - un.from_day)
           - COALESCE((SELECT sum(upper(r) - lower(r))
                       FROM unnest(o.spans * datemultirange(daterange(un.from_day, un.to_day))) r),
                      0)) AS vacant_days
FROM units un
LEFT JOIN occupied o ON o.unit_id = un.id
WHERE un.to_day > un.from_day
GROUP BY un.operator_id
"""


def vacancy_days(quarter: Quarter, today: date | None = None) -> dict[int, float]:
    """Average days a unit of the operator stood without a tenant in the quarter."""
    today = today or timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            VACANCY_SQL,
            {
                "first": quarter.first,
                "after": quarter.after,
                "today": today,
            },
        )
        return {op: float(days) / units for op, units, days in cursor.fetchall() if units}


def _hours(expression) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=DurationField())


def repair_response_hours(quarter: Quarter, now: datetime | None = None) -> dict[int, float]:
    """Mean hours from report to assignment of the repairs reported in the quarter (one not yet
    assigned counts up to the quarter's end)."""
    from tenancy.models import Repair

    first, after = quarter.span()
    rows = (
        Repair.objects.filter(reported_at__gte=first, reported_at__lt=after, operator__isnull=False)
        .values("operator_id")
        .annotate(
            mean=Avg(
                _hours(
                    Coalesce(
                        Least("assigned_at", Value(_as_of(quarter, now))),
                        Value(_as_of(quarter, now)),
                    )
                    - F("reported_at")
                )
            )
        )
        .order_by()
    )
    return {r["operator_id"]: r["mean"].total_seconds() / 3600 for r in rows}


def repair_completion_days(quarter: Quarter, now: datetime | None = None) -> dict[int, float]:
    """Mean days from report to completion of the repairs reported in the quarter (one still
    open counts up to the quarter's end)."""
    from tenancy.models import Repair

    first, after = quarter.span()
    rows = (
        Repair.objects.filter(reported_at__gte=first, reported_at__lt=after, operator__isnull=False)
        .values("operator_id")
        .annotate(
            mean=Avg(
                _hours(
                    Coalesce(
                        Least("closed_at", Value(_as_of(quarter, now))),
                        Value(_as_of(quarter, now)),
                    )
                    - F("reported_at")
                )
            )
        )
        .order_by()
    )
    return {r["operator_id"]: r["mean"].total_seconds() / 86400 for r in rows}


def units_per_operator() -> dict[int, int]:
    return dict(
        Unit.objects.filter(building__estate__operator__isnull=False)
        .values("building__estate__operator_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("building__estate__operator_id", "n")
    )


def complaints_per_100_units(quarter: Quarter) -> dict[int, float]:
    """Public complaints (举报) about the operator's estates received in the quarter, per 100
    units it runs."""
    from tenancy.models import Complaint

    first, after = quarter.span()
    units = units_per_operator()
    counts = dict(
        Complaint.objects.filter(created_at__gte=first, created_at__lt=after)
        .exclude(estate__operator__isnull=True)
        .values("estate__operator_id")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("estate__operator_id", "n")
    )
    return {op: 100 * counts.get(op, 0) / n for op, n in units.items() if n}


def recheck_follow_up_days(quarter: Quarter, now: datetime | None = None) -> dict[int, float]:
    """Mean days from a re-check hit being found (in the quarter) to its decision, on the
    operator's leases (one still open counts up to the quarter's end)."""
    from tenancy.models.recheck import RecheckHit

    first, after = quarter.span()
    at = _as_of(quarter, now)
    rows = (
        RecheckHit.objects.filter(first_seen_at__gte=first, first_seen_at__lt=after)
        .exclude(**{f"{OPERATOR}__isnull": True})
        .values(OPERATOR)
        .annotate(
            mean=Avg(
                _hours(Coalesce(Least("resolved_at", Value(at)), Value(at)) - F("first_seen_at"))
            )
        )
        .order_by()
    )
    return {r[OPERATOR]: r["mean"].total_seconds() / 86400 for r in rows}


METRICS = {
    "collection_rate": lambda q, now: collection_rate(q),
    "vacancy_days": lambda q, now: vacancy_days(q, timezone.localdate(now)),
    "repair_response_hours": repair_response_hours,
    "repair_completion_days": repair_completion_days,
    "complaints_per_100_units": lambda q, now: complaints_per_100_units(q),
    "recheck_follow_up_days": recheck_follow_up_days,
}


# --- rules and scores -------------------------------------------------------------------------


def default_rules() -> dict:
    return json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))["metrics"]


def rules_for(city: Region) -> EvaluationRules:
    """The city's rules, loaded from data/evaluation-weights.json the first time."""
    rules, _ = EvaluationRules.objects.get_or_create(
        city=city, defaults={"metrics": default_rules()}
    )
    return rules


def metric_points(value: float | None, rule: dict) -> float | None:
    """0–100, linear between the rule's `zero` and `full` values (either may be the larger)."""
    if value is None:
        return None
    zero, full = float(rule["zero"]), float(rule["full"])
    if full == zero:
        return 100.0 if value == full else 0.0
    return max(0.0, min(1.0, (value - zero) / (full - zero))) * 100


def total_score(values: dict[str, float | None], rules: dict) -> Decimal | None:
    """The weighted mean of the points of the metrics that have a value."""
    weighted = weights = 0.0
    for key, rule in rules.items():
        points = metric_points(values.get(key), rule)
        if points is None or not rule.get("weight"):
            continue
        weighted += float(rule["weight"]) * points
        weights += float(rule["weight"])
    if not weights:
        return None
    return Decimal(str(weighted / weights)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _city_of_operators() -> dict[int, int]:
    """Each operator's city: the parent of its estates' county (the first one, by county)."""
    cities: dict[int, int] = {}
    rows = (
        Operator.objects.filter(estates__isnull=False)
        .values_list("pk", "estates__district__parent_id")
        .order_by("pk", "estates__district__parent_id")
        .distinct()
    )
    for op, city in rows:
        cities.setdefault(op, city)
    return cities


def score_operators(quarter: str, *, actor, now: datetime | None = None) -> list[OperatorScore]:
    """Compute (or recompute, until published) every operator's score for the quarter."""
    q = Quarter.parse(quarter)
    now = now or timezone.now()
    if q.first > timezone.localdate(now):
        raise NotAllowed(f"{q.label}尚未开始，不能考核。")
    with transaction.atomic():
        if OperatorScore.objects.filter(quarter=q.name).published().exists():
            raise NotAllowed(f"{q.label}的考核结果已公开，不能重新计算。")
        values = {key: metric(q, now) for key, metric in METRICS.items()}
        units = units_per_operator()
        cities = _city_of_operators()
        rules = {
            r.city_id: r.metrics
            for r in (rules_for(c) for c in Region.objects.filter(pk__in=set(cities.values())))
        }
        scores = []
        for op, city in cities.items():
            # Scored from the figures as stored and published, so anyone can redo the sum.
            metrics = {
                key: (None if values[key].get(op) is None else round(values[key][op], 4))
                for key in METRICS
            }
            score, _ = OperatorScore.objects.update_or_create(
                operator_id=op,
                quarter=q.name,
                defaults={
                    "metrics": metrics,
                    "score": total_score(metrics, rules[city]),
                    "units": units.get(op, 0),
                    "computed_at": now,
                },
            )
            scores.append(score)
        record_event(
            "evaluation.scored",
            f"计算运营单位考核得分：{q.label}，{len(scores)} 家运营单位",
            actor=actor,
            after={"quarter": q.name, "operators": len(scores)},
        )
    return scores


def publish(quarter: str, *, actor) -> int:
    """Make the quarter's scores public: on the portal's page, and as a notice (通知公告) per
    city through the disclosure outbox, a versioned list with its hash. Then they are kept."""
    q = Quarter.parse(quarter)
    with transaction.atomic():
        now = timezone.now()
        fresh = list(
            OperatorScore.objects.select_for_update()
            .filter(quarter=q.name, published_at__isnull=True)
            .values_list("pk", flat=True)
        )
        if not fresh:
            raise NotAllowed(f"{q.label}没有待公开的考核结果。")
        OperatorScore.objects.filter(pk__in=fresh).update(published_at=now)
        cities = _city_of_operators()
        by_city: dict[int, list[OperatorScore]] = {}
        for score in ranking(q.name, OperatorScore.objects.filter(pk__in=fresh)):
            by_city.setdefault(cities.get(score.operator_id), []).append(score)
        for city_id, scores in by_city.items():
            if city_id is not None:
                _notice(Region.objects.get(pk=city_id), q, scores, actor)
        record_event(
            "evaluation.published",
            f"公开运营单位考核结果：{q.label}，{len(fresh)} 家",
            actor=actor,
            after={"quarter": q.name, "operators": len(fresh)},
        )
    return len(fresh)


def _notice(city: Region, q: Quarter, scores: list[OperatorScore], actor) -> None:
    """The city's ranking as a public notice (organisations and figures only)."""
    from disclosure.models import Kind
    from disclosure.services import enqueue_publication

    rules = rules_for(city).metrics
    columns = [
        {"key": "rank", "label": "排名", "kind": "number"},
        {"key": "operator", "label": "运营单位", "kind": "text"},
        {"key": "units", "label": "房屋套数", "kind": "number"},
        *(
            {"key": key, "label": f"{rule['label']}（{rule.get('unit', '')}）", "kind": "number"}
            for key, rule in rules.items()
        ),
        {"key": "score", "label": "得分", "kind": "number"},
    ]
    rows = []
    for rank, score in enumerate(scores, start=1):
        row = {
            "_key": str(score.operator_id),
            "rank": rank,
            "operator": score.operator.name,
            "units": score.units,
            "score": float(score.score) if score.score is not None else None,
        }
        for key in rules:
            value = score.metrics.get(key)
            if value is not None and key == "collection_rate":
                value = round(value * 100, 1)
            row[key] = round(value, 1) if value is not None else None
        rows.append(row)
    enqueue_publication(
        kind=Kind.GENERAL_NOTICE,
        region=city,
        title=f"{city.name}公租房运营单位考核结果（{q.label}）",
        body=f"{q.label}公租房运营单位考核结果如下，各项指标由系统按实测数据计算，"
        "“空”表示该季度没有这项数据、不计入得分。",
        columns=columns,
        rows=rows,
        actor=actor,
        subject={"operator_scores": q.name},
    )


def ranking(quarter: str, scores=None) -> list[OperatorScore]:
    """The quarter's scores, best first (no score last), each with its metric points."""
    rows = list(
        (scores if scores is not None else OperatorScore.objects)
        .filter(quarter=quarter)
        .select_related("operator")
        .order_by(F("score").desc(nulls_last=True), "operator__name")
    )
    return rows


def scored_quarters(scores=None) -> list[str]:
    qs = scores if scores is not None else OperatorScore.objects.all()
    return list(qs.order_by("-quarter").values_list("quarter", flat=True).distinct())
