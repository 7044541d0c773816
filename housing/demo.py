"""Demo households and applications at every stage, made through the services staff use.

The people are synthetic: ID numbers are generated with valid check digits for the demo
counties, and their department records come from exchange.synthetic.
"""

from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from disclosure.services import pending_outbox_ids, process_outbox
from exchange.idcard import make_id_number
from exchange.sources import SyntheticSource
from exchange.synthetic import person_name, record
from geo.models import Region
from housing import services
from housing.models import Application

RULES_FILE = Path(settings.BASE_DIR) / "data" / "eligibility-rules.json"
# (stage to reach, how many, ID sequence: 9xx sequences fail a rule on purpose)
PLAN = [
    ("draft", 1, None),
    ("accept", 3, None),
    ("first_review", 3, None),
    ("data_check", 2, None),
    ("second_review", 2, None),
    ("returned", 1, None),
    ("rejected", 1, "901"),
    ("approved", 3, None),
    ("publicity", 5, None),
]
ORDER = ["accept", "first_review", "data_check", "second_review", "publicity"]


def _person(county: Region, n: int, sequence: str | None) -> tuple[str, str]:
    born = date(1975, 1, 1) + timedelta(days=331 * n)
    id_number = make_id_number(county.adcode, born, int(sequence) if sequence else 100 + n)
    return person_name(id_number), id_number


def _advance(application: Application, target: str, source) -> Application:
    for step in ORDER[: ORDER.index(target)]:
        if step == "data_check":
            check = services.run_data_check(application.pk, actor=None, source=source)
            if not check.passed:
                return services.decide(
                    application.pk,
                    decision="reject",
                    actor=None,
                    opinion="部门数据比对有不符合项："
                    + "、".join(r["label"] for r in check.results if not r["passed"]),
                )
        services.decide(application.pk, decision="pass", opinion="材料齐全，符合要求", actor=None)
        application.refresh_from_db()
    return application


def seed_demo_applications() -> int:
    """Rules, then applications in 谯城区 at every stage, and a review notice in publicity."""
    call_command("load_rules", str(RULES_FILE), commit=True, verbosity=0)
    county = Region.objects.get(adcode="341602")
    street = Region.objects.filter(parent=county).order_by("adcode").first()
    community = Region.objects.filter(parent=street).order_by("adcode").first()
    source = SyntheticSource()
    made, n = 0, 0
    approved_batch_done = False
    for target, count, sequence in PLAN:
        for _ in range(count):
            n += 1
            name, id_number = _person(county, n, sequence)
            if Application.objects.filter(id_number=id_number).exists():
                continue
            members = record("police", id_number)["members"]
            application = Application(
                name=name,
                id_number=id_number,
                phone=f"1390000{n:04d}",
                county=county,
                street=street,
                community=community,
                housing_situation="租住私房",
                current_area=30,
                employer="（演示）某公司",
                consent=True,
            )
            services.save_application(application, members, submit=target != "draft")
            made += 1
            if target in ("draft", "accept"):
                continue
            if target == "returned":
                services.decide(
                    application.pk,
                    decision="return",
                    actor=None,
                    opinion="请补充现住房租赁合同信息",
                )
                continue
            reach = "publicity" if target in ("approved", "publicity") else target
            if target == "rejected":
                reach = "second_review"
            _advance(application, reach, source)
        if target == "approved" and not approved_batch_done:
            # This batch's publicity is already over: approved after a period without objection.
            if _publicize(county):
                services.finish_publicity(now=timezone.now() + timedelta(days=30))
            approved_batch_done = True
    _publicize(county)
    return made


def _publicize(county: Region) -> bool:
    waiting = Application.objects.filter(
        county=county, stage="publicity", review_outbox__isnull=True
    ).exists()
    if waiting:
        services.start_publicity(county, actor=None)
        _publish_pending()
    return waiting


def _publish_pending() -> None:
    for outbox_id in pending_outbox_ids():
        process_outbox(outbox_id)
