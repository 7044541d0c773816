"""Demo repairs for the demo city, made through tenancy.services.repairs: some in every state,
overdue ones among them, a few with generated photos, two opened by staff on vacant units.

The services stamp the present moment; the demo then ages each repair's own timestamps (not
its archive events, which are append-only) so queues, overdue flags and the operator figures
look like a working quarter.
"""

import io
import random
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from geo.models import Unit
from tenancy.models import Contract, Repair, RepairCategory
from tenancy.repair_selectors import overdue_q
from tenancy.services import repairs

SEED = 13
PROBLEMS = {
    "urgent": ["卫生间水管漏水，地面积水", "厨房插座跳闸，整户断电", "热水器不出热水"],
    "general": ["卧室门锁坏了，无法反锁", "客厅灯不亮，换灯泡无效", "阳台晾衣架脱落"],
    "leak": ["北卧室墙面发霉渗水", "楼上漏水，卫生间吊顶滴水"],
    "doors": ["入户门关不严，门缝透风", "窗户把手断裂"],
    "appliance": ["马桶水箱一直流水", "厨房下水道堵塞"],
    "common": ["楼道声控灯不亮", "单元门门禁失灵"],
}
NOTES = ["已更换配件并试用正常", "已疏通并清理现场", "已维修，承租人在场确认", "已更换新件"]
TEAMS = ["物业维修一班", "物业维修二班", "水电班组", "门窗班组"]


def _photo(rng: random.Random, label: int) -> bytes:
    """A small JPEG that looks like a photo placeholder (shapes on a colour)."""
    image = Image.new("RGB", (640, 480), tuple(rng.randrange(90, 200) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(0, 560), rng.randrange(0, 400)
        draw.rectangle((x, y, x + rng.randrange(20, 80), y + rng.randrange(20, 80)), outline=0)
    draw.text((20, 20), f"demo {label}", fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def _actor():
    user = get_user_model().objects.filter(username="demo-seed").first()
    if user is None:
        raise RuntimeError("演示维修数据需要先运行 load_demo（缺少 demo-seed 账号）。")
    return user


def _age(repair: Repair, reported: datetime, steps: dict[str, float]) -> None:
    """Move the repair's clock back: reported at `reported`, each step `hours` after it."""
    category = repair.category
    values = {
        "reported_at": reported,
        "respond_by": reported + timedelta(hours=category.respond_hours),
        "complete_by": reported + timedelta(hours=category.complete_hours),
    }
    for field, hours in steps.items():
        values[field] = reported + timedelta(hours=hours)
    if "scheduled_for" in values:
        values["first_visit_at"] = values["scheduled_for"]
    Repair.objects.filter(pk=repair.pk).update(**values)


def load(today: date, actor=None) -> str:
    """Demo repairs in every state; returns a short Chinese summary."""
    if Repair.objects.exists():
        return f"维修工单已有 {Repair.objects.count()} 条，未重复生成"
    actor = actor or _actor()
    rng = random.Random(SEED)
    now = timezone.make_aware(datetime.combine(today, time(10, 0)))
    codes = list(RepairCategory.objects.filter(active=True).values_list("code", flat=True))
    leases = list(
        Contract.objects.filter(status=Contract.Status.ACTIVE, household__applicant__isnull=False)
        .select_related("household__applicant")
        .order_by("pk")[:26]
    )
    # (state, days ago reported, overdue?) per lease, in order
    plan = (
        [("reported", 0.1, False)] * 3
        + [("reported", 2.5, True)] * 2
        + [("assigned", 1, False)] * 3
        + [("assigned", 12, True)]
        + [("scheduled", 1.5, False)] * 3
        + [("closed", 4, False)] * 4
        + [("confirmed", d, False) for d in (9, 20, 35, 50, 62, 75)]
        + [("reopened", 6, False)]
    )
    made: dict[str, int] = {}
    photos = 0
    for index, (lease, (state, days, late)) in enumerate(zip(leases, plan, strict=False)):
        calm = [c for c in codes if c != "urgent"] or codes
        code = "urgent" if late else rng.choice(calm)
        with_photos = index % 5 == 0
        pictures = [(f"IMG_{index:04d}.jpg", _photo(rng, index))] if with_photos else []
        with transaction.atomic():
            repair = repairs.report_by_tenant(
                applicant=lease.household.applicant,
                contract_id=lease.pk,
                category=code,
                description=rng.choice(PROBLEMS.get(code, PROBLEMS["general"])),
                photos=pictures,
            )
            photos += len(pictures)
            steps: dict[str, float] = {}
            if state != "reported":
                repairs.assign(repair.pk, actor=actor, assignee_name=rng.choice(TEAMS))
                limit = min(repair.category.respond_hours * 1.2, days * 12)
                steps["assigned_at"] = rng.uniform(min(0.5, limit), limit)
            if state in ("scheduled", "closed", "confirmed", "reopened"):
                visit = timezone.now() + timedelta(hours=1)
                repairs.schedule(repair.pk, actor=actor, visit_at=visit)
                steps["scheduled_for"] = steps["assigned_at"] + rng.uniform(2, 24)
                if state == "scheduled":
                    steps["scheduled_for"] = days * 24 + 20
            if state in ("closed", "confirmed", "reopened"):
                repairs.close(repair.pk, actor=actor, note=rng.choice(NOTES))
                steps["closed_at"] = steps["scheduled_for"] + rng.uniform(1, 6)
            if state == "confirmed":
                repairs.confirm(repair.pk, applicant=lease.household.applicant)
                steps["confirmed_at"] = steps["closed_at"] + rng.uniform(2, 48)
            if state == "reopened":
                repairs.reopen(
                    repair.pk, applicant=lease.household.applicant, reason="还是漏水，没有修好"
                )
                steps.pop("closed_at")
            repair.refresh_from_db()
            _age(repair, now - timedelta(days=days), steps)
        made[state] = made.get(state, 0) + 1
    vacant = list(Unit.objects.filter(status=Unit.Status.VACANT).order_by("pk")[:2])
    for number, unit in enumerate(vacant):
        repair = repairs.report_by_staff(
            unit_id=unit.pk,
            category="leak",
            description="空置房巡查发现墙面渗水，需维修后再配租",
            actor=actor,
        )
        if number == 1:
            repairs.assign(repair.pk, actor=actor, assignee_name="物业维修一班")
            repairs.close(repair.pk, actor=actor, note="已处理渗水并重新粉刷")
        made["staff"] = made.get("staff", 0) + 1
    total = sum(made.values())
    overdue = Repair.objects.filter(overdue_q(timezone.now())).count()
    staff = made.get("staff", 0)
    return f"{total} 条维修工单（{overdue} 条超时，{photos} 张照片，{staff} 条空置房维修）"
