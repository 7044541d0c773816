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
from housing.models import Applicant, Application

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
    ("approved", 24, None),
    ("publicity", 5, None),
]
# Approved households in each of the other counties, so every county has a waitlist.
APPROVED_ELSEWHERE = 4
ORDER = ["accept", "first_review", "data_check", "second_review", "publicity"]


def _person(county: Region, n: int, sequence: str | None) -> tuple[str, str]:
    born = date(1962, 1, 1) + timedelta(days=(331 * n) % (365 * 40))
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
    """Rules, then applications in 谯城区 at every stage, approved households in every county
    (the waitlists), and a review notice in publicity."""
    call_command("load_rules", str(RULES_FILE), commit=True, verbosity=0)
    counties = list(Region.objects.filter(level=Region.Level.DISTRICT).order_by("adcode"))
    home = next(c for c in counties if c.adcode == "341602")
    source = SyntheticSource()
    made, n = 0, 0
    for target, count, sequence in PLAN:
        for _ in range(count):
            n += 1
            made += _make(home, n, target, sequence, source)
        if target == "approved":
            for county in counties:
                if county != home:
                    for i in range(APPROVED_ELSEWHERE):
                        made += _make(county, 100 + i, "approved", None, source)
            # These batches' publicity is already over: approved after a period without
            # objection.
            if any([_publicize(county) for county in counties]):
                services.finish_publicity(now=timezone.now() + timedelta(days=30))
    _publicize(home)
    return made


def _make(county: Region, n: int, target: str, sequence: str | None, source) -> int:
    """One application in `county` taken to `target` through the services; 0 if it exists."""
    name, id_number = _person(county, n, sequence)
    if Application.objects.filter(id_number=id_number).exists():
        return 0
    street = Region.objects.filter(parent=county).order_by("adcode").first()
    community = Region.objects.filter(parent=street).order_by("adcode").first()
    members = record("police", id_number)["members"]
    phone = f"139{county.adcode[-2:]}{n:06d}"
    # An account for the phone, as SMS sign-in makes one: a visitor signs in as this applicant.
    applicant, _ = Applicant.objects.get_or_create(phone=phone)
    application = Application(
        applicant=applicant,
        name=name,
        id_number=id_number,
        phone=phone,
        county=county,
        street=street,
        community=community,
        housing_situation="租住私房",
        current_area=30,
        employer="（演示）某公司",
        priorities=["dibao"] if n % 5 == 0 else [],
        consent=True,
    )
    services.save_application(application, members, submit=target != "draft", source=source)
    if target in ("draft", "accept"):
        return 1
    if target == "returned":
        services.decide(
            application.pk,
            decision="return",
            actor=None,
            opinion="请补充现住房租赁合同信息",
        )
        return 1
    reach = "publicity" if target in ("approved", "publicity") else target
    if target == "rejected":
        reach = "second_review"
    _advance(application, reach, source)
    return 1


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
