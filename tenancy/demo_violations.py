"""Demo clean-up of violations (清理整顿) for the demo city, made through the services: cases at
every step (some past their step's deadline), public complaints (two about one unit), a grid
worker's inspection round with one suspected sublet, an arrears case, and six months of utility
readings imported from a file that flags a few units as possibly idle.

The services stamp today; the demo then moves some step deadlines into the past (the cases'
own dates, never their archive events) so the overdue flags show.
"""

import contextlib
import csv
import random
import tempfile
from datetime import date, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db.models import Count

from geo.models import Estate, Unit
from housing.errors import NotAllowed
from tenancy.models import ArrearsWarning, Contract, ViolationCase
from tenancy.services import complaints, inspections, violations
from tenancy.utility_import import add_months

SEED = 17
LEADS = {
    "sublet": "邻居反映该户近期由陌生人居住，疑似转租",
    "misuse": "房屋内摆放货架，疑似用作仓库",
    "damage": "承租人擅自拆除厨房隔墙",
    "false_info": "动态核查：家庭名下有登记的商品住房",
    "idle": "多次入户无人，邻居称长期无人居住",
}
COMPLAINT_TEXTS = [
    "这套房子原住户早搬走了，现在是外地人租住，每月交房租给原住户",
    "一楼这户把房子改成了小卖部，天天有人进出买东西",
    "楼上这户一年多没人住了，门口的广告贴满了",
    "这户在房间里装修打隔断，噪音很大，可能在改结构",
    "这户家里有两辆车，还开着店，不像困难家庭",
]


def _actor():
    user = get_user_model().objects.filter(username="demo-seed").first()
    if user is None:
        raise RuntimeError("演示违规数据需要先运行 load_demo（缺少 demo-seed 账号）。")
    return user


def _open(contract: Contract, kind: str, source: str, ref: str, actor) -> ViolationCase:
    return violations.open_case(
        kind_code=kind,
        unit_id=contract.unit_id,
        contract_id=contract.pk,
        household_id=contract.household_id,
        source=source,
        source_ref=ref,
        summary=LEADS.get(kind, "违规线索"),
        evidence={"demo": True},
        actor=actor,
    )


def _investigate(case: ViolationCase, actor, found: bool = True) -> None:
    violations.add_record(
        case.pk, kind="visit", text="网格员会同运营单位入户核查，已拍照", actor=actor
    )
    violations.add_record(case.pk, kind="interview", text="约谈承租人，制作询问笔录", actor=actor)
    violations.conclude_investigation(
        case.pk,
        found=found,
        reason="核查属实，证据见调查记录" if found else "入户核实为亲属短期探望，查无违规",
        actor=actor,
    )


def _cases(contracts: list[Contract], today: date, actor) -> int:
    """Cases at each step; about a third of the open ones past their deadline."""
    kinds = ["sublet", "misuse", "damage", "false_info", "idle"]
    made = 0
    steps = ["investigating"] * 5 + ["deciding"] * 3 + ["rectifying"] * 3
    steps += ["warned", "warned", "unfounded", "rectified", "recover"]
    for n, (contract, step) in enumerate(zip(contracts, steps, strict=False)):
        kind = kinds[n % len(kinds)]
        source = "recheck" if kind == "false_info" else "manual"
        case = _open(contract, kind, source, f"demo:{n}", actor)
        made += 1
        if step == "investigating":
            if n % 2:
                violations.add_record(case.pk, kind="visit", text="首次入户，无人应门", actor=actor)
        elif step == "unfounded":
            _investigate(case, actor, found=False)
        else:
            _investigate(case, actor)
            if step == "warned":
                violations.decide(
                    case.pk,
                    decision="warning",
                    reason="首次违规，予以书面警告",
                    credit_conduct=case.kind.credit_conduct,
                    credit_reason="违规事实清楚，建议记入轻微失信",
                    actor=actor,
                )
            elif step in ("rectifying", "rectified"):
                violations.decide(
                    case.pk,
                    decision="rectification",
                    reason="责令限期改正",
                    rectify_by=today + timedelta(days=case.kind.rectification_days),
                    actor=actor,
                )
                if step == "rectified":
                    violations.follow_up(
                        case.pk, rectified=True, text="复查已恢复原状", actor=actor
                    )
            elif step == "recover":
                # The exit procedure may refuse (an exit already open): the case then waits.
                with contextlib.suppress(NotAllowed):
                    violations.decide(
                        case.pk, decision="recover", reason="转租拒不改正，依法收回", actor=actor
                    )
        if n % 3 == 0 and step in ("investigating", "deciding", "rectifying"):
            ViolationCase.objects.filter(pk=case.pk).update(step_due=today - timedelta(days=3 + n))
    return made


def _complaints(contracts: list[Contract], rng: random.Random, actor) -> int:
    made = 0
    repeated = contracts[0].unit
    for n, text in enumerate(COMPLAINT_TEXTS + COMPLAINT_TEXTS[:1]):
        unit = repeated if n in (0, len(COMPLAINT_TEXTS)) else contracts[n].unit
        complaint = complaints.submit(
            estate_id=unit.building.estate_id,
            place=f"{unit.building.number} {unit.number}",
            kind_code=["sublet", "misuse", "idle", "damage", "false_info"][n % 5],
            text=text,
            anonymous=n % 2 == 0,
            phone="" if n % 2 == 0 else f"139{rng.randrange(10**8):08d}",
        )
        made += 1
        if n == 1:
            complaints.open_case(complaint.pk, unit_id=None, kind_code="misuse", actor=actor)
        elif n == 3:
            complaints.dismiss(complaint.pk, reason="入户核实为正常维修，不予立案", actor=actor)
    return made


def _inspections(today: date, actor) -> int:
    """One community's round: most units normal, one suspected sublet."""
    community = (
        Estate.objects.filter(community__isnull=False, buildings__units__status="occupied")
        .values("community_id")
        .annotate(n=Count("buildings__units"))
        .order_by("-n")
        .first()
    )
    if community is None:
        return 0
    units = list(
        Unit.objects.filter(
            building__estate__community_id=community["community_id"], status="occupied"
        ).order_by("pk")[:15]
    )
    for n, unit in enumerate(units):
        suspected = "sublet" if n == 4 else ""
        inspections.record_visit(
            unit_id=unit.pk,
            visited_on=today - timedelta(days=n % 5),
            occupant_present=n % 6 != 5,
            answered_by="other" if suspected else ("nobody" if n % 6 == 5 else "tenant"),
            notes="应门者称是租客，向承租人交房租" if suspected else "",
            suspected_code=suspected,
            actor=actor,
        )
    return len(units)


def _utility(contracts: list[Contract], today: date, rng: random.Random, actor) -> int:
    """Six months of readings for some let units, four of them near zero throughout."""
    last = add_months(date(today.year, today.month, 1), -1)
    rows = []
    for n, contract in enumerate(contracts):
        unit = contract.unit
        idle = n < 4
        for back in range(6):
            month = add_months(last, -back)
            water = rng.uniform(0, 0.6) if idle else rng.uniform(3, 9)
            power = rng.uniform(0, 6) if idle else rng.uniform(60, 260)
            rows.append(
                [
                    unit.building.estate.name,
                    unit.building.number,
                    unit.number,
                    f"{month:%Y-%m}",
                    f"{water:.2f}",
                    f"{power:.1f}",
                ]
            )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"水电读数-{last:%Y%m}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["小区", "楼栋", "房号", "月份", "用水（吨）", "用电（度）"])
            writer.writerows(rows)
        count = violations.import_readings(path, filename=path.name, actor=actor)
    # One flagged unit already has its 闲置 case; the others wait on the idle list.
    violations.open_idle_case(contracts[0].unit_id, last=last, actor=actor)
    return count


def load(today: date) -> str:
    """Create the demo clean-up; returns a short summary in Chinese."""
    actor = _actor()
    rng = random.Random(SEED)
    if ViolationCase.objects.filter(source_ref__startswith="demo:").exists():
        return "违规演示数据已存在"
    contracts = list(
        Contract.objects.filter(
            status=Contract.Status.ACTIVE, unit__building__estate__published=True
        )
        .exclude(unit__utility_readings__isnull=False)
        .select_related("unit__building__estate", "household")
        .order_by("pk")
    )
    rng.shuffle(contracts)
    if len(contracts) < 30:
        return "违规演示数据需要至少 30 份履行中的合同，已跳过"
    cases = _cases(contracts[:16], today, actor)
    filed = _complaints(contracts[16:24], rng, actor)
    visits = _inspections(today, actor)
    readings = _utility(contracts[24:54], today, rng, actor)  # at least six units
    arrears = 0
    for warning in ArrearsWarning.objects.filter(resolved_at__isnull=True).order_by("pk")[:2]:
        violations.open_arrears_case(warning.pk, actor=actor)
        arrears += 1
    return (
        f"{cases + arrears} 件违规案件，{filed} 条群众举报，{visits} 次入户巡查，"
        f"{readings} 条水电读数"
    )
