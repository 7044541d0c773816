"""A demo credit database shaped like the seed city's first batch: 110 records (27 minor,
19 serious, 64 severe), 5 of them firms, the rest people, most of them demo households;
some already repaired or expired, a few proposals still in their objection period.

Everything goes through credit.services (proposal, 认定, repair), dated in the past as if the
database had been kept for two and a half years; each proposal carries a demo photo as its
evidence file, so the file pages have something to show. The caller (load_demo, at the top of the
layering) passes the people, because credit knows nothing of households.
"""

import io
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone
from stdnum.cn import uscc

from credit import publication, services
from credit.evidence import Upload
from credit.models import Proposal
from disclosure.services import pending_outbox_ids, process_outbox
from geo.models import Region

LEVELS = {"minor": 27, "serious": 19, "severe": 64}
CONDUCT = {
    "minor": ["refuse-allocation", "damage"],
    "serious": ["rent-arrears", "idle", "change-use", "false-annual-review"],
    "severe": ["false-application", "sublet", "refuse-exit"],
}
# Where in the plan each firm sits: its conduct's level must be the plan's level there.
FIRMS = {
    30: ("亳州市城东物业服务有限公司（演示）", "operator-false-report"),
    40: ("涡阳县安泰物业管理有限公司（演示）", "operator-false-report"),
    50: ("亳州市安家房产经纪有限公司（演示）", "intermediary-fraud"),
    70: ("亳州市宜居置业咨询有限公司（演示）", "intermediary-fraud"),
    90: ("谯城区惠民代办服务部（演示）", "intermediary-fraud"),
}
FACTS = {
    "refuse-allocation": "在两次配租中均无正当理由放弃已选房源。",
    "damage": "擅自拆除承租住房内隔墙，经通知未恢复原状。",
    "rent-arrears": "累计拖欠租金超过 6 个月，经催缴仍未缴纳。",
    "idle": "经网格员走访和水电数据核实，承租住房连续 6 个月以上无人居住。",
    "change-use": "将承租住房用作经营性仓库。",
    "false-annual-review": "年审时未申报家庭新增的机动车和经营收入。",
    "false-application": "申请时隐瞒家庭名下房产，经不动产登记数据比对核实。",
    "sublet": "将承租住房转租他人，经现场核查和租户访谈核实。",
    "refuse-exit": "合同终止后拒不腾退承租住房。",
    "intermediary-fraud": "为多名申请人伪造收入证明、代办公租房申请并收取费用。",
    "operator-false-report": "运营期间虚报维修完成情况和空置房源数量。",
}


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    county: Region
    household_id: int | None = None


def demo_photo() -> list[Upload]:
    """A small generated picture standing in for a site photo (the same bytes every time, so
    the archive keeps it once)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (320, 200), (236, 240, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle((20, 20, 300, 180), outline=(31, 95, 168), width=4)
    draw.text((40, 90), "DEMO EVIDENCE", fill=(31, 95, 168))
    out = io.BytesIO()
    image.save(out, "PNG")
    return [Upload("现场核查照片（演示）.png", out.getvalue())]


def firm_code(n: int) -> str:
    """A well-formed demo 统一社会信用代码 (check character computed, not a real firm)."""
    base = f"91341600MA2{n:05d}X"
    return base + uscc.calc_check_digit(base)


def seed_demo_credit(people: list[Person], *, actor, blocked: Person | None = None) -> dict:
    """The demo records; `blocked` gets a severe record in effect (its draft application is
    stopped at submission, to show the consequence). Returns counts for load_demo's summary."""
    today = timezone.localdate()
    plan = [level for level, n in LEVELS.items() for _ in range(n)]
    people = list(people)
    made = repaired = pending = 0
    photo = demo_photo()
    for i, level in enumerate(plan):
        if i in FIRMS:
            name, code = FIRMS[i]
            subject = services.organisation(name, firm_code(i))
            county = people[i % len(people)].county
        else:
            if not people:
                break
            who = people.pop(0)
            subject = services.person(who.name, who.id_number, household_id=who.household_id)
            county = who.county
            code = CONDUCT[level][i % len(CONDUCT[level])]
        decided = today - timedelta(days=20 + (i * 97) % 880)
        at = timezone.make_aware(datetime.combine(decided, time(10)))
        proposal = services.propose(
            subject=subject,
            conduct_code=code,
            county=county,
            source="manual" if i % 3 else "review",
            source_ref=f"DEMO-{i:03d}",
            facts=FACTS[code] + "（演示数据）",
            files=photo,
            actor=actor,
            now=at - timedelta(days=30),
        )
        if proposal.status != Proposal.Status.NOTIFIED:
            continue
        record = services.confirm(
            proposal.pk, decision="经调查核实，事实清楚，予以认定。", actor=actor, now=at
        )
        made += 1
        if i % 14 == 5 and record.in_effect(today):
            repair = services.ask_repair(record.pk, correction="已纠正失信行为并提交说明。")
            services.decide_repair(
                repair.pk, approve=True, decision="纠正到位，准予修复。", actor=actor
            )
            repaired += 1
    for n, who in enumerate(people[:4]):
        # Still in their objection period: the queue's work.
        proposal = services.propose(
            subject=services.person(who.name, who.id_number, household_id=who.household_id),
            conduct_code="rent-arrears",
            county=who.county,
            source="manual",
            source_ref=f"DEMO-PENDING-{n}",
            facts=FACTS["rent-arrears"] + "（演示数据）",
            files=photo,
            actor=actor,
        )
        if n == 0:
            services.object_to(proposal.pk, text="已于上月补缴全部欠租，附银行回单。")
        pending += 1
    if blocked is not None:
        proposal = services.propose(
            subject=services.person(blocked.name, blocked.id_number),
            conduct_code="false-application",
            county=blocked.county,
            source="review",
            source_ref="DEMO-BLOCKED",
            facts=FACTS["false-application"] + "（演示数据）",
            files=photo,
            actor=actor,
            now=timezone.now() - timedelta(days=40),
        )
        if proposal.status == Proposal.Status.NOTIFIED:
            services.confirm(
                proposal.pk,
                decision="经调查核实，事实清楚，予以认定。",
                actor=actor,
                now=timezone.now() - timedelta(days=10),
            )
            made += 1
    _publish()
    return {"credit_records": made, "credit_repaired": repaired, "credit_pending": pending}


def _publish() -> None:
    """As the worker would: the outbox, then the lists that changed meanwhile."""
    while True:
        for outbox_id in pending_outbox_ids():
            process_outbox(outbox_id)
        if not publication.publish_changed():
            return
