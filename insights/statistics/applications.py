"""申请审核 in figures: applications by stage and month, time per review step against its
deadline, the approval rate and why applications were refused."""

from collections import Counter
from datetime import datetime

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _

from housing.models import DEFAULT_CHAIN, Application, CountyPolicy, ReviewStep
from insights import summaries
from insights.models import ReviewMonth
from insights.statistics.base import Dashboard, Period, Scope, Table, days, percent

OPEN_STAGES = ["accept", "first_review", "data_check", "second_review", "publicity"]
TOP_REASONS = 10


def applications(scope: Scope, period: Period) -> Dashboard:
    """Applications submitted in the period: per month with where they stand now, and per
    current stage. Drafts were never submitted and are not counted."""
    submitted = Application.objects.filter(
        scope.applications(), submitted_at__gte=period.start, submitted_at__lt=period.end
    )
    # One scan, grouped by month and stage; both tables are sums of its cells.
    cells = Counter()
    for month, stage, n in (
        submitted.annotate(month=TruncMonth("submitted_at"))
        .values_list("month", "stage")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        cells[month.date(), stage] += n
    counts = Counter()
    for (_month, stage), n in cells.items():
        counts[stage] += n
    month_rows = []
    for month in period.months():
        row = {stage: cells[month, stage] for stage in Application.Stage.values}
        month_rows.append(
            [
                f"{month:%Y-%m}",
                sum(row.values()),
                sum(row[s] for s in OPEN_STAGES),
                row["approved"],
                row["rejected"],
            ]
        )
    stage_rows = [
        [str(label), counts.get(stage, 0)]
        for stage, label in Application.Stage.choices
        if stage != Application.Stage.DRAFT
    ]
    return Dashboard(
        "applications",
        _("申请受理"),
        [
            Table(
                "by_month",
                _("按提交月份"),
                [_("月份"), _("提交申请"), _("在办"), _("审批通过"), _("未通过")],
                month_rows,
                chart="stacked",
                series=[2, 3, 4],
            ),
            Table("by_stage", _("按当前环节"), [_("办理环节"), _("申请数")], stage_rows),
        ],
        note=_("统计期内提交的申请（不含草稿），按提交月份和目前所处环节统计。"),
    )


def _step_label(step: str) -> str:
    return str(Application.Stage(step).label) if step in Application.Stage.values else step


def _deadline_days(scope: Scope) -> dict[str, str]:
    """Each step's time limit in working days under the county policies in scope ("3" or
    "3–5" when counties differ); the default chain where a county has no policy yet."""
    limits: dict[str, set[int]] = {}
    policies = CountyPolicy.objects.filter(
        scope.counties_only() if scope.county is None else Q(county=scope.county)
    )
    chains = [p.review_chain for p in policies] or [DEFAULT_CHAIN]
    for chain in chains:
        for step in chain:
            limits.setdefault(step["step"], set()).add(int(step.get("days") or 0))
    return {
        step: (f"{min(v)}–{max(v)}" if min(v) != max(v) else str(min(v)))
        for step, v in limits.items()
    }


def _steps_live(scope: Scope, period: Period) -> dict:
    """Per step (decided, with a deadline, late, mean time at the step), counted live: for a
    viewer a per-county summary cannot answer (a street, a community), and before the first
    rebuild of the summary."""
    # Each decision's entry time is the decision before it on the same case, found by an index
    # lookup on (application, decided_at, id) for the decisions of the period only: a window
    # over every decision in scope would sort the whole history on each page view.
    previous = (
        ReviewStep.objects.filter(application_id=OuterRef("application_id"))
        .filter(
            Q(decided_at__lt=OuterRef("decided_at"))
            | Q(decided_at=OuterRef("decided_at"), id__lt=OuterRef("id"))
        )
        .order_by("-decided_at", "-id")
        .values("decided_at")[:1]
    )
    return {
        r["step"]: (r["n"], r["with_deadline"], r["late"], r["mean"])
        for r in ReviewStep.objects.filter(
            scope.applications("application__"),
            decided_at__gte=period.start,
            decided_at__lt=period.end,
        )
        .exclude(decision=ReviewStep.Decision.SUBMIT)
        .annotate(entered=Subquery(previous))
        .values("step")
        .annotate(
            n=Count("pk"),
            with_deadline=Count("deadline"),
            late=Count("pk", filter=Q(decided_at__gt=F("deadline"))),
            mean=Avg(
                ExpressionWrapper(F("decided_at") - F("entered"), output_field=DurationField())
            ),
        )
        .order_by()
    }


def _steps_summary(counties: Q, period: Period) -> dict:
    """The same figures from the worker's per-(month, county, step) summary."""
    rows = (
        ReviewMonth.objects.filter(counties, month__gte=period.first, month__lte=period.last)
        .values("step")
        .annotate(
            n=Sum("decided"),
            with_deadline=Sum("with_deadline"),
            late=Sum("late"),
            timed=Sum("timed"),
            spent=Sum("spent"),
        )
        .order_by()
    )
    return {
        r["step"]: (
            r["n"],
            r["with_deadline"],
            r["late"],
            r["spent"] / r["timed"] if r["timed"] else None,
        )
        for r in rows
    }


def review(scope: Scope, period: Period, live: bool = False) -> Dashboard:
    """Per review step, the decisions taken in the period: how long the case waited at the step
    (from the decision before it on the same case, which is when the step was entered) and how
    many came after the deadline the case carried at that step; plus the cases open now past
    their deadline (always live). The decisions come from the worker's summary where the
    viewer's area is whole counties and it has been built (`live` counts them afresh)."""
    counties = None if live else scope.whole_counties()
    as_of = summaries.as_of(summaries.REVIEW) if counties is not None else None
    figures = _steps_live(scope, period) if as_of is None else _steps_summary(counties, period)
    now_overdue = dict(
        Application.objects.filter(
            scope.applications(),
            stage__in=OPEN_STAGES,
            returned=False,
            stage_deadline__lt=timezone.now(),
        )
        .values_list("stage")
        .annotate(n=Count("pk"))
        .order_by()
    )
    limits = _deadline_days(scope)
    order = [s["step"] for s in DEFAULT_CHAIN]
    order += sorted(set(figures) - set(order))
    rows = []
    for step in order:
        decided, with_deadline, late, mean = figures.get(step, (0, 0, 0, None))
        rows.append(
            [
                _step_label(step),
                limits.get(step, "—"),
                decided,
                days(mean),
                late,
                percent(late, with_deadline),
                now_overdue.get(step, 0),
            ]
        )
    return Dashboard(
        "review",
        _("审核时效"),
        [
            Table(
                "steps",
                _("各环节办理时长与时限"),
                [
                    _("环节"),
                    _("时限（工作日）"),
                    _("统计期内办结"),
                    _("平均用时（天）"),
                    _("超过时限"),
                    _("超时率（%）"),
                    _("目前超期在办"),
                ],
                rows,
                series=[3, 4],
            )
        ],
        note=_(
            "用时从案件进入该环节（上一步决定）算到本环节作出决定；"
            "超过时限以案件在该环节的办理期限为准。"
        ),
        as_of=as_of,
    )


def _refusals(scope: Scope, period: Period, live: bool = False) -> tuple[dict, datetime | None]:
    """Refusals in the period per step, from the 审核时效 summary where it can answer (there
    is no index on the decision: live, it is a scan of every decision ever taken)."""
    counties = None if live else scope.whole_counties()
    as_of = summaries.as_of(summaries.REVIEW) if counties is not None else None
    if as_of is not None:
        rows = (
            ReviewMonth.objects.filter(
                counties, month__gte=period.first, month__lte=period.last, rejected__gt=0
            )
            .values_list("step")
            .annotate(n=Sum("rejected"))
            .order_by()
        )
        return dict(rows), as_of
    rejections = ReviewStep.objects.filter(
        scope.applications("application__"),
        decision=ReviewStep.Decision.REJECT,
        decided_at__gte=period.start,
        decided_at__lt=period.end,
    )
    return dict(rejections.values_list("step").annotate(n=Count("pk")).order_by()), None


def decisions(scope: Scope, period: Period, live: bool = False) -> Dashboard:
    """Applications decided in the period (approved after publicity, or refused at a step):
    the approval rate per county, the step that refused (from the worker's summary once built;
    `live` counts afresh) and the reasons given."""
    decided = Application.objects.filter(
        scope.applications(),
        stage__in=["approved", "rejected"],
        decided_at__gte=period.start,
        decided_at__lt=period.end,
    )
    county_rows = []
    for r in (
        decided.values("county__name")
        .annotate(
            total=Count("pk"),
            approved=Count("pk", filter=Q(stage="approved")),
            rejected=Count("pk", filter=Q(stage="rejected")),
        )
        .order_by("county__adcode")
    ):
        county_rows.append(
            [
                r["county__name"],
                r["total"],
                r["approved"],
                r["rejected"],
                percent(r["approved"], r["total"]),
            ]
        )
    by_step, as_of = _refusals(scope, period, live)
    order = [s["step"] for s in DEFAULT_CHAIN] + sorted(
        set(by_step) - {s["step"] for s in DEFAULT_CHAIN}
    )
    step_rows = [[_step_label(s), by_step[s]] for s in order if by_step.get(s)]
    reason_rows = [
        [text, n]
        for text, n in decided.filter(stage="rejected")
        .values_list("rejection_reasons")
        .annotate(n=Count("pk"))
        .order_by("-n", "rejection_reasons")[:TOP_REASONS]
    ]
    return Dashboard(
        "decisions",
        _("审批通过率与未通过原因"),
        [
            Table(
                "by_county",
                _("按区县"),
                [_("区县"), _("办结"), _("审批通过"), _("未通过"), _("通过率（%）")],
                county_rows,
                chart="stacked",
                series=[2, 3],
            ),
            Table("by_step", _("未通过的环节"), [_("环节"), _("未通过")], step_rows, "pie"),
            Table(
                "reasons",
                _("未通过原因（前 10 项）"),
                [_("原因"), _("申请数")],
                reason_rows,
                chart="",
            ),
        ],
        note=_("统计期内办结（审批通过或不予通过）的申请。"),
        as_of=as_of,
    )
