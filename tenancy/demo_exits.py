"""Demo exits through the services: a voluntary notice, one due for inspection, one inspected
awaiting settlement, a settled one, a transition at market rent; and a quarter of operator
scores, published. Leases are taken from the end of the list, clear of the other demos."""

from datetime import date, timedelta

from housing.errors import NotAllowed
from tenancy.models import Contract, Exit, OperatorScore
from tenancy.services import evaluation, exits

# (reason, days before today the notice was given, how far it goes)
PLAN = [
    ("voluntary", 3, "notice"),
    ("expired", 35, "notice"),
    ("violation", 40, "inspected"),
    ("voluntary", 45, "settled"),
    ("ineligible", 20, "notice"),
]


def load(today: date, actor=None) -> str:
    """Demo exits in each state and last quarter's scores; returns a short Chinese summary."""
    leases = list(
        Contract.objects.filter(
            status=Contract.Status.ACTIVE,
            check_in_date__lte=today - timedelta(days=60),
            exits__isnull=True,
        ).order_by("-pk")[: len(PLAN)]
    )
    made = 0
    for lease, (reason, ago, until) in zip(leases, PLAN, strict=False):
        notice = today - timedelta(days=ago)
        exit_ = exits.start(
            lease.pk,
            reason=reason,
            actor=actor,
            source_ref="演示数据",
            notice_date=notice,
            move_out_by=notice + timedelta(days=30) if reason == "voluntary" else None,
        )
        made += 1
        if until == "notice":
            continue
        exit_ = exits.inspect(
            exit_.pk,
            moved_out_on=min(today, exit_.move_out_by) - timedelta(days=2),
            condition=Exit.Condition.DAMAGED if reason == "violation" else Exit.Condition.WORN,
            damages=exits.clean_damages(
                [{"item": "卫生间门", "amount": "260", "note": "门框开裂"}]
                if reason == "violation"
                else []
            ),
            notes="演示验房记录",
            outcome=Exit.Outcome.VACANT,
            actor=actor,
        )
        if until == "settled":
            exits.settle(exit_.pk, actor=actor)
    quarter = evaluation.Quarter.of(today).previous()
    try:
        scores = evaluation.score_operators(quarter.name, actor=actor)
        if scores:
            evaluation.publish(quarter.name, actor=actor)
    except NotAllowed:  # a rerun: the quarter is published already and kept as it is
        scores = list(OperatorScore.objects.filter(quarter=quarter.name))
    return f"{made} 条退出，{quarter.label} {len(scores)} 家运营单位考核得分"
