"""Demo leases, a year of rent and its arrears, for the demo city.

Two paths, both honest about what they are:
- The demo's accepted offers go through the contract services a clerk and a tenant use: one
  is signed (a real PAdES-sealed PDF) and moved into, one waits for the tenant's confirmation,
  and one is left for staff to draft.
- Occupied demo units had tenants before the system (存量租户). `existing` of them are recorded
  in bulk as such: an approved household (its application says it was recorded, not
  reviewed) and an active lease with no offer (none led to it), whose document is one shared
  PDF saying the paper lease was not scanned; they carry no tenant confirmation and no
  signature, and the archive says the demo recorded them. Rendering and signing a real PDF
  costs about 0.3 s each and load_demo runs before every test session, so the bulk renders
  none (--contracts N sets how many; the other occupied units stay without a lease on record).

Then a year of bills is issued month by month as the daily job would have, paid mostly through
monthly bank statements imported like a clerk's, some at the counter, some partly or not at
all; reminders and arrears warnings are raised as of today.
"""

import csv
import hashlib
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from allocation.models import Offer
from archive import documents
from archive.models import Document, Event, RateCounter
from archive.services import record_events
from exchange.idcard import make_id_number
from exchange.synthetic import person_name
from geo.models import Region, Unit
from housing.models import (
    Applicant,
    Application,
    Household,
    HouseholdMember,
    Relation,
    SmsMessage,
)
from tenancy import contract_pdf, subsidy
from tenancy.models import LIVE, Bill, Contract, LeaseTemplate, Payment, TenancyPolicy
from tenancy.services import billing, contracts, payments
from tenancy.services.billing import month_of, next_month, previous_month

TEMPLATE_FILE = Path(settings.BASE_DIR) / "data" / "lease-template.html"
DEFAULT_EXISTING = 60
HISTORY_MONTHS = 12
REMINDER_DAYS = [7, 30]
# Monthly income of a household (yuan), cycled: some below each subsidy tier's bound.
INCOMES = [Decimal(v) for v in ("2600", "1500", "4200", "3300", "900", "5200", "2100")]


@dataclass(frozen=True)
class Habit:
    """How a demo tenant pays: by bank transfer or at the counter; stops paying `stops`
    months before now (0: never), or pays only half of one month's bill."""

    channel: str = "bank"
    stops: int = 0
    half: bool = False


def habit(index: int) -> Habit:
    """Most pay by bank on time; a few at the counter, a few partly, a few fall behind (two of
    them long enough for an arrears warning)."""
    if index % 25 == 3:
        return Habit(stops=7 if index % 50 == 3 else 3)
    if index % 25 == 11:
        return Habit(stops=2)
    if index % 40 == 7:
        return Habit(channel="counter")
    if index % 20 == 9:
        return Habit(half=True)
    return Habit()


def seed_demo_tenancy(actor, *, existing: int = DEFAULT_EXISTING, today: date | None = None):
    """Returns counts of what was made; does nothing when there are leases already."""
    if Contract.objects.exists():
        return {"contracts": 0, "bills": 0, "payments": 0}
    today = today or timezone.localdate()
    configure_counties(actor)
    signed = sign_accepted_offers(actor, today)
    recorded = record_existing_tenancies(actor, existing, today)
    bills = bill_history(actor, today)
    billing.send_reminders(today)
    billing.raise_arrears_warnings(today)
    return {"contracts": signed + recorded, "bills": bills, "payments": _payments_count()}


def _payments_count() -> int:
    return Payment.objects.count()


def configure_counties(actor) -> None:
    """Every county gets the lease template and rent rules (reminders at 7 and 30 days)."""
    body = TEMPLATE_FILE.read_text(encoding="utf-8")
    for county in Region.objects.filter(level=Region.Level.DISTRICT).order_by("adcode"):
        if not LeaseTemplate.objects.filter(county=county).exists():
            LeaseTemplate.objects.create(
                county=county,
                version=1,
                title="公共租赁住房租赁合同",
                body=body,
                created_by=actor,
            )
        policy = contracts.policy_for(county)
        if not policy.reminder_days:
            policy.reminder_days = REMINDER_DAYS
            policy.save(update_fields=["reminder_days"])


# --- through the contract services ------------------------------------------------------------


def _code_sent_to(phone: str) -> str:
    """The demo's SMS backend keeps messages in the database (the development inbox)."""
    text = SmsMessage.objects.filter(phone=phone).order_by("-pk").values_list("text", flat=True)[0]
    return text.split("验证码 ")[1][:6]


def sign_accepted_offers(actor, today: date) -> int:
    """The first accepted offer is signed and moved into this month; the second waits for its
    tenant's confirmation; any other is left for staff to draft."""
    offers = list(
        Offer.objects.filter(status=Offer.Status.ACCEPTED, contract__isnull=True)
        .select_related("household__applicant")
        .order_by("pk")
    )
    made = 0
    if offers:
        start = month_of(today)
        offer = offers[0]
        contract = contracts.draft(offer.pk, start=start, months=36, actor=actor)
        if offer.household.applicant is not None:
            counting = set(RateCounter.objects.values_list("pk", flat=True))
            contracts.send_confirmation_code(contract, ip=None)
            code = _code_sent_to(offer.household.phone)
            contracts.confirm(
                contract.pk, contracts.Confirming(offer.household.applicant, code, None)
            )
            # The demo's code request is history, not a live limit on anyone's next request.
            RateCounter.objects.exclude(pk__in=counting).delete()
            contracts.approve(contract.pk, actor=actor)
            contracts.move_in(contract.pk, day=start, actor=actor)
        made += 1
    if len(offers) > 1:
        contracts.draft(offers[1].pk, start=next_month(today), months=36, actor=actor)
        made += 1
    return made


# --- existing tenancies, recorded in bulk -------------------------------------------------------


def _spread(count: int) -> list[Unit]:
    """Occupied units without a lease, spread evenly over the city (every k-th by id)."""
    ids = list(
        Unit.objects.filter(status=Unit.Status.OCCUPIED)
        .exclude(contracts__status__in=LIVE)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids or count <= 0:
        return []
    step = max(1, len(ids) // count)
    picked = ids[::step][:count]
    units = Unit.objects.filter(pk__in=picked).select_related(
        "building__estate__district", "building__estate__street", "building__estate__community"
    )
    return sorted(units, key=lambda u: u.pk)


def _placeholder() -> Document:
    """One page, rendered once, standing for the paper leases nobody scanned."""
    pdf = contract_pdf.render_pdf(
        title="存量租赁合同（系统上线前签订）",
        body_html=(
            "<p>本记录为演示数据：该户在系统上线前已签订纸质租赁合同并入住，"
            "合同要素（租金、补贴、租期）已补录到系统，纸质原件未扫描入档。</p>"
            "<p>此文件不是租赁合同文本，也没有电子签章。</p>"
        ),
        number="存量补录",
    )
    return documents.store(pdf, name="存量合同补录说明.pdf", content_type="application/pdf")


def _places(unit: Unit) -> tuple[Region, Region, Region]:
    estate = unit.building.estate
    street = estate.street or Region.objects.filter(parent=estate.district).order_by("adcode")[0]
    community = estate.community or Region.objects.filter(parent=street).order_by("adcode").first()
    return estate.district, street, community or street


def record_existing_tenancies(actor, count: int, today: date) -> int:
    """Households and active leases for `count` occupied units, in bulk (see above)."""
    units = _spread(count)
    if not units:
        return 0
    with transaction.atomic():
        document = _placeholder()
        people = [_person(i, unit, today) for i, unit in enumerate(units)]
        applicants = Applicant.objects.bulk_create([Applicant(phone=p.phone) for p in people])
        applications = Application.objects.bulk_create(
            [p.application(applicant) for p, applicant in zip(people, applicants, strict=True)]
        )
        households = Household.objects.bulk_create(
            [p.household(a) for p, a in zip(people, applications, strict=True)]
        )
        HouseholdMember.objects.bulk_create(
            [m for p, h in zip(people, households, strict=True) for m in p.members(h)]
        )
        templates = {t.county_id: t for t in LeaseTemplate.objects.order_by("county", "version")}
        policies = {p.county_id: p for p in TenancyPolicy.objects.all()}
        leases = Contract.objects.bulk_create(
            [
                p.contract(h, templates[p.county.pk], policies[p.county.pk], document, actor)
                for p, h in zip(people, households, strict=True)
            ]
        )
        record_events(
            Event(
                action="contract.recorded",
                summary=f"存量租户补录（演示数据）：合同 {c.number}，系统上线前签订的纸质合同，"
                f"{c.start_date:%Y-%m-%d} 起租",
                actor=actor,
                household_id=c.household_id,
                unit_id=c.unit_id,
                estate_id=p.unit.building.estate_id,
                after={"contract": c.pk, "source": "demo bulk: existing tenancy"},
            )
            for p, c in zip(people, leases, strict=True)
        )
    return len(leases)


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(10, 0)))


@dataclass
class _Person:
    index: int
    unit: Unit
    county: Region
    street: Region
    community: Region
    id_number: str
    name: str
    phone: str
    size: int
    income: Decimal
    priorities: list
    start: date
    key: str

    def application(self, applicant: Applicant) -> Application:
        decided = _moment(self.start - timedelta(days=40))
        return Application(
            number=f"CL{self.start:%Y}-{self.index + 1:06d}",
            public_key=self.key,
            applicant=applicant,
            channel=Application.Channel.COUNTER,
            name=self.name,
            id_number=self.id_number,
            phone=self.phone,
            county=self.county,
            street=self.street,
            community=self.community,
            housing_situation="系统上线前已配租入住（存量租户，演示补录）",
            monthly_income=self.income,
            priorities=self.priorities,
            consent=True,
            stage=Application.Stage.APPROVED,
            submitted_at=decided - timedelta(days=60),
            decided_at=decided,
        )

    def household(self, application: Application) -> Household:
        return Household(
            application=application,
            public_key=self.key,
            applicant=application.applicant,
            head_name=self.name,
            head_id_number=self.id_number,
            phone=self.phone,
            county=self.county,
            street=self.street,
            community=self.community,
            size=self.size,
            priorities=self.priorities,
            approved_at=application.decided_at,
            status=Household.Status.ALLOCATED,
        )

    def members(self, household: Household) -> list[HouseholdMember]:
        relations = [
            (Relation.SELF, "本人"),
            (Relation.SPOUSE, "配偶"),
            (Relation.SON, "子"),
            (Relation.DAUGHTER, "女"),
        ]
        members = []
        for n, (code, text) in enumerate(relations[: self.size]):
            born = date(1950, 1, 1) + timedelta(days=self.index * 19 + n * 3001)
            number = self.id_number if n == 0 else make_id_number(self.county.adcode, born, 700)
            members.append(
                HouseholdMember(
                    household=household,
                    name=self.name if n == 0 else person_name(number),
                    relation=code,
                    relation_text=text,
                    id_number=number,
                )
            )
        return members

    def contract(self, household, template, policy, document, actor) -> Contract:
        rent = self.unit.monthly_rent
        off = subsidy.monthly_subsidy(
            rent,
            priorities=self.priorities,
            income_per_head=self.income / self.size,
            tiers=policy.subsidy_tiers,
        )
        return Contract(
            number=f"CL{self.start:%Y}-{self.index + 1:06d}",
            offer=None,
            household=household,
            unit=self.unit,
            template=template,
            monthly_rent=rent,
            monthly_subsidy=off,
            deposit=(rent * policy.deposit_months).quantize(subsidy.FEN),
            start_date=self.start,
            end_date=contracts.add_months(self.start, policy.max_term_months) - timedelta(days=1),
            status=Contract.Status.ACTIVE,
            draft=document,
            tenant_confirmation={"method": "系统上线前签订的纸质合同（演示补录，无电子确认）"},
            check_in_date=self.start,
            created_by=actor,
        )


def _person(index: int, unit: Unit, today: date) -> _Person:
    county, street, community = _places(unit)
    born = date(1946, 1, 1) + timedelta(days=index * 19)
    id_number = make_id_number(county.adcode, born, 600 + index % 100)
    # Leases began 2 to 30 months ago; every seventh in the middle of a month (prorated).
    start = month_of(today)
    for _ in range(2 + (index * 7) % 29):
        start = previous_month(start)
    if index % 7 == 5:
        start = start.replace(day=11 + index % 15)
    return _Person(
        index=index,
        unit=unit,
        county=county,
        street=street,
        community=community,
        id_number=id_number,
        name=person_name(id_number),
        phone=f"138{county.adcode[-2:]}{index:06d}",
        size=1 + index % 4,
        income=INCOMES[index % len(INCOMES)],
        priorities=["dibao"] if index % 9 == 4 else [],
        start=start,
        key=hashlib.sha256(f"existing-{id_number}".encode()).hexdigest()[:8].upper(),
    )


# --- a year of rent ----------------------------------------------------------------------------


def bill_history(actor, today: date) -> int:
    """Bills for the last twelve months, issued on each month's first day as the daily job
    would; each month's payments follow, mostly from the bank's statement."""
    first = month_of(today)
    for _ in range(HISTORY_MONTHS - 1):
        first = previous_month(first)
    issued, month = 0, first
    while month <= today:
        issued += billing.issue_bills(month, actor=actor, on=month, at=_moment(month))
        _pay_month(month, actor, today)
        month = next_month(month)
    return issued


def _pay_month(month: date, actor, today: date) -> None:
    months_ago = (today.year - month.year) * 12 + today.month - month.month
    bank, counter = [], []
    bills = (
        Bill.objects.filter(month=month, status=Bill.Status.UNPAID)
        .select_related("contract")
        .order_by("contract_id")
    )
    for bill in bills:
        index = _index_of(bill.contract)
        if index is None:
            continue  # a lease signed through the services: its tenant pays when they like
        how = habit(index)
        if how.stops and months_ago < how.stops:
            continue
        day = min(bill.due_date - timedelta(days=1 + index % 9), today)
        if day < month:
            day = min(month, today)
        short = how.half and months_ago == 1 + index % 4
        amount = (bill.amount / 2).quantize(Decimal("0.01")) if short else bill.amount
        if amount <= 0 or day > today:
            continue
        (counter if how.channel == "counter" else bank).append((bill, amount, day))
    for bill, amount, day in counter:
        payments.record_payment(bill.pk, amount=amount, paid_on=day, actor=actor, today=today)
    if bank:
        _import_statement(month, bank, actor, today)


def _index_of(contract: Contract) -> int | None:
    if not contract.number.startswith("CL"):
        return None
    return int(contract.number.split("-")[1]) - 1


def _import_statement(month: date, rows: list, actor, today: date) -> None:
    """The month's transfers as the bank would list them (with one unrelated credit that the
    import skips), imported through the same path as a clerk's upload."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"对账单-{month:%Y%m}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["交易日期", "交易流水号", "收入金额", "对方户名", "附言"])
            for n, (bill, amount, day) in enumerate(rows):
                writer.writerow(
                    [
                        f"{day:%Y-%m-%d}",
                        f"DEMO{month:%Y%m}{n:06d}",
                        f"{amount:.2f}",
                        "",
                        bill.reference,
                    ]
                )
            writer.writerow(
                [
                    f"{min(month + timedelta(days=20), today):%Y-%m-%d}",
                    f"DEMO{month:%Y%m}X",
                    "120.00",
                    "",
                    "物业费",
                ]
            )
        payments.commit_statement(path, filename=path.name, actor=actor, today=today)
