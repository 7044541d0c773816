"""信用管理 as the people involved rely on it: nothing counts before 认定 and the objection
period, a record counts for exactly its period, repair takes it off the public list but keeps
it, the city-wide query is logged, and records in effect stop what their conduct says."""

import json
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import DatabaseError, connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from allocation.models import Round
from allocation.services import rounds
from credit import publication, selectors, services
from credit.models import Effect, Proposal, Query, Record
from credit.services import CreditError
from disclosure.models import Kind, Outbox, Publication
from disclosure.services import process_outbox
from exchange.idcard import make_id_number
from geo.models import Estate, Region, Unit
from housing import services as housing
from housing.errors import NotAllowed
from housing.models import Application
from tests.personas import make_staff

pytestmark = pytest.mark.django_db

CHINA = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=CHINA)  # a Monday
LATER = T0 + timedelta(days=30)  # past ten working days


@pytest.fixture
def county() -> Region:
    return Region.objects.get(adcode="341602")


@pytest.fixture
def clerk(county):
    return make_staff("credit-clerk", "district", region=county)


def _person(seq: int, name: str = "张三丰"):
    return services.person(name, make_id_number("341602", date(1980, 1, 1), seq))


def _record(clerk, county, subject, code="false-application") -> Record:
    proposal = services.propose(
        subject=subject,
        conduct_code=code,
        county=county,
        source="manual",
        facts="申请时隐瞒名下房产一套（不动产登记信息）。",
        actor=clerk,
        now=T0,
    )
    return services.confirm(proposal.pk, decision="经核实属实，予以认定。", actor=clerk, now=LATER)


def _publish_pending() -> None:
    """What the worker does: publish the outbox, then the lists that changed meanwhile."""
    while True:
        for pk in Outbox.objects.filter(processed_at__isnull=True).values_list("pk", flat=True):
            process_outbox(pk)
        if not publication.publish_changed():
            return


def _current_list(city: Region) -> Publication:
    latest = Publication.objects.filter(kind=Kind.DISHONESTY_LIST, region=city).order_by("-pk")
    return latest.first()


@pytest.mark.parametrize(
    ("code", "ok"),
    [
        ("91110000600037341L", True),
        ("91110000600037341A", False),  # wrong check character
        ("9111000060003734", False),  # too short
    ],
)
def test_organisations_are_known_by_a_valid_unified_social_credit_code(code, ok):
    if ok:
        assert services.organisation("某中介有限公司", code).credit_code == code
    else:
        with pytest.raises(CreditError, match="统一社会信用代码"):
            services.organisation("某中介有限公司", code)


def test_nothing_counts_before_the_objection_period_ends(clerk, county):
    subject = _person(1)
    proposal = services.propose(
        subject=subject,
        conduct_code="false-application",
        county=county,
        source="review",
        source_ref="SQ2026-000001",
        facts="申请时隐瞒名下房产。",
        actor=clerk,
        now=T0,
    )
    assert proposal.objection_until > T0.date() and proposal.status == "notified"
    again = services.propose(
        subject=subject,
        conduct_code="false-application",
        county=county,
        source="review",
        source_ref="SQ2026-000001",
        facts="重复上报",
        actor=clerk,
        now=T0,
    )
    assert again.pk == proposal.pk, "the same report from the same source is one proposal"
    with pytest.raises(CreditError, match="期满后才能认定"):
        services.confirm(proposal.pk, decision="予以认定。", actor=clerk, now=T0)
    assert not Record.objects.filter(subject=subject).exists()
    assert not selectors.holds([subject.id_number], Effect.APPLY, T0.date())

    record = services.confirm(proposal.pk, decision="予以认定。", actor=clerk, now=LATER)
    assert record.decided_on == LATER.date() and record.level == "severe"
    assert record.effective_until == date(2031, 4, 1)  # five years
    assert selectors.holds([subject.id_number], Effect.APPLY, LATER.date())


def test_an_objection_in_time_is_answered_and_a_late_one_refused(clerk, county):
    first = services.propose(
        subject=_person(2),
        conduct_code="refuse-allocation",
        county=county,
        source="allocation",
        facts="两次无正当理由拒绝配租。",
        actor=clerk,
        now=T0,
    )
    services.object_to(first.pk, text="第二次因病住院，有病历。", now=T0 + timedelta(days=2))
    rejected = services.reject(first.pk, decision="住院属实，属正当理由。", actor=clerk, now=LATER)
    assert rejected.status == Proposal.Status.REJECTED
    assert not Record.objects.filter(proposal=first).exists()

    late = services.propose(
        subject=_person(3),
        conduct_code="refuse-allocation",
        county=county,
        source="allocation",
        facts="两次无正当理由拒绝配租。",
        actor=clerk,
        now=T0,
    )
    with pytest.raises(CreditError, match="异议期已于"):
        services.object_to(late.pk, text="我有理由。", now=LATER)


def test_only_the_deciding_county_confirms(clerk, county):
    proposal = services.propose(
        subject=_person(4),
        conduct_code="sublet",
        county=county,
        source="violation",
        facts="将承租住房转租他人。",
        actor=clerk,
        now=T0,
    )
    other = make_staff("credit-woyang", "district", region=Region.objects.get(adcode="341621"))
    with pytest.raises(CreditError, match="不在您的管辖范围内"):
        services.confirm(proposal.pk, decision="予以认定。", actor=other, now=LATER)


@given(
    decided=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    months=st.integers(min_value=1, max_value=120),
)
def test_a_record_counts_to_the_day_before_the_same_date_its_period_later(decided, months):
    until = services.add_months(decided, months)
    record = Record(decided_on=decided, effective_until=until)
    assert record.in_effect(decided)
    assert record.in_effect(until - timedelta(days=1))
    assert not record.in_effect(until)
    assert not record.in_effect(decided - timedelta(days=1))
    assert (until.year * 12 + until.month) - (decided.year * 12 + decided.month) == months
    assert until.day == decided.day or until.day < decided.day  # month end: the last day


def test_the_public_list_masks_people_names_firms_and_drops_repaired_records(clerk, county):
    person = _person(5, "欧阳建国")
    firm = services.organisation("亳州某某房产中介有限公司", "91110000600037341L")
    kept = _record(clerk, county, person)
    _record(clerk, county, firm, code="intermediary-fraud")
    _publish_pending()
    city = county.parent
    listing = _current_list(city)
    items = json.dumps(listing.items, ensure_ascii=False)
    assert "欧**国" in items and "欧阳建国" not in items
    assert person.id_number not in items and person.id_number[-4:] in items
    assert "亳州某某房产中介有限公司" in items and "91110000600037341L" in items
    assert not re.search(r"\d{17}[\dX]", items.replace("91110000600037341L", ""))

    repair = services.ask_repair(kept.pk, correction="已主动退回多领的补贴并说明情况。")
    services.decide_repair(repair.pk, approve=True, decision="纠正到位，准予修复。", actor=clerk)
    _publish_pending()
    after = _current_list(city)
    assert after.pk != listing.pk and after.supersedes_id == listing.pk
    assert "欧**国" not in json.dumps(after.items, ensure_ascii=False)
    kept.refresh_from_db()
    assert kept.repaired_on is not None and not kept.in_effect(kept.repaired_on)
    assert Record.objects.filter(pk=kept.pk).exists(), "history is kept"


def test_the_city_wide_query_is_logged_and_the_log_cannot_be_rewritten(clerk, county):
    subject = _person(6)
    _record(clerk, county, subject)
    operator = Estate.objects.exclude(district=county).exclude(operator=None).first().operator
    elsewhere = make_staff("credit-operator", "operator", operator=operator)
    with pytest.raises(CreditError, match="查询事由"):
        services.query(user=elsewhere, purpose="", id_number=subject.id_number)
    found = services.query(
        user=elsewhere, purpose="续租审核 HT2026-000001", id_number=subject.id_number
    )
    assert [r.subject_id for r in found] == [subject.pk]
    log = Query.objects.get(asked_by=elsewhere)
    assert log.found == 1 and log.purpose == "续租审核 HT2026-000001"
    assert subject.id_number not in json.dumps(
        list(Query.objects.values()), default=str, ensure_ascii=False
    )
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE credit_query SET purpose = 'x' WHERE id = %s", [log.pk])


def test_a_severe_record_stops_an_application_at_submission_with_its_reason(clerk, county):
    community = Region.objects.filter(level="community", parent__parent=county).first()
    applicant_id = make_id_number("341602", date(1985, 5, 5), 71)
    _record(clerk, county, services.person("李四", applicant_id))
    application = Application(
        name="李四",
        id_number=applicant_id,
        phone="13911117171",
        county=county,
        street=community.parent,
        community=community,
        consent=True,
    )
    with pytest.raises(NotAllowed, match=r"有尚在影响期内的失信记录.*不得提交公租房申请"):
        housing.save_application(application, [{"name": "李四", "relation": "本人"}], submit=True)
    assert not Application.objects.filter(number__isnull=False, name="李四").exists()


def test_a_minor_record_suspends_allocation_invitations(clerk, county):
    units = Unit.objects.filter(building__estate__district=county, status="vacant")
    taken = Round.objects.exclude(status="closed").values("round_units__unit")
    draft = rounds.create_round(
        county,
        name="信用测试批次",
        unit_ids=list(units.exclude(pk__in=taken).values_list("pk", flat=True)[:3]),
        invitation=Round.Invitation.ALL,
        invite_count=None,
        actor=clerk,
    )
    before = rounds.invited(draft)
    assert before, "the demo county has waiting households"
    household = before[0].household
    subject = services.person(household.head_name, household.head_id_number)
    _record(clerk, county, subject, code="refuse-allocation")
    after = rounds.invited(draft)
    assert household.pk not in {e.household_id for e in after}
    assert len(after) == len(before) - 1


def test_a_record_leaves_the_list_the_day_its_period_ends(clerk, county):
    record = _record(clerk, county, _person(8, "王小明"), code="refuse-allocation")
    _publish_pending()

    def listed() -> bool:
        return "王*明" in json.dumps(_current_list(county.parent).items, ensure_ascii=False)

    assert listed()
    last_day = datetime.combine(record.effective_until, datetime.min.time(), CHINA)
    services.publish_expired(now=last_day - timedelta(hours=1))
    _publish_pending()
    assert listed(), "still in effect on its last day"
    assert services.publish_expired(now=last_day + timedelta(hours=1)) >= 1
    _publish_pending()
    assert not listed()
    assert services.publish_expired(now=last_day + timedelta(hours=2)) == 0, "once"
