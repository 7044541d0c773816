"""年审: opened on the lease's anniversary, reminded at the county's days, flagged when missed,
answered by the tenant with the departments asked again, decided by the county with reasons."""

import sys
import types
from datetime import date, timedelta

import pytest

from exchange.models import Evidence
from housing.errors import NotAllowed
from housing.models import InboxMessage, SmsMessage
from tenancy.models import AnnualReview, ReviewPolicy
from tenancy.services import annual_reviews
from tests.personas import make_staff
from tests.tenancy.rent import lease
from tests.tenancy.test_renewals_support import Departments, answers

pytestmark = pytest.mark.django_db

START = date(2025, 3, 10)
ANNIVERSARY = date(2026, 3, 10)


@pytest.fixture
def contract():
    return lease(start=START, end=date(2028, 3, 9))


@pytest.fixture
def review(contract):
    annual_reviews.open_due_reviews(ANNIVERSARY)
    return AnnualReview.objects.get(contract=contract, year=2026)


@pytest.fixture
def county_staff(contract):
    return make_staff("r-district", "district", region=contract.household.county)


def test_a_review_opens_on_the_anniversary_once_and_tells_the_household(
    contract, django_capture_on_commit_callbacks
):
    assert annual_reviews.open_due_reviews(ANNIVERSARY - timedelta(days=1)) >= 0
    assert not AnnualReview.objects.filter(contract=contract).exists()
    with django_capture_on_commit_callbacks(execute=True):
        annual_reviews.open_due_reviews(ANNIVERSARY)
    review = AnnualReview.objects.get(contract=contract)
    policy = ReviewPolicy.objects.get(county=contract.household.county)
    assert (review.year, review.status) == (2026, AnnualReview.Status.OPEN)
    assert review.due_date == ANNIVERSARY + timedelta(days=policy.answer_days)
    assert InboxMessage.objects.filter(
        applicant=contract.household.applicant_id, subject__contains="年审"
    )
    assert SmsMessage.objects.filter(phone=contract.household.phone, text__contains="年审")
    # The next day's run (and a rerun the same day) opens nothing new for this lease.
    annual_reviews.open_due_reviews(ANNIVERSARY)
    annual_reviews.open_due_reviews(ANNIVERSARY + timedelta(days=1))
    assert AnnualReview.objects.filter(contract=contract).count() == 1


def test_reminders_go_once_at_each_configured_day(review, django_capture_on_commit_callbacks):
    ReviewPolicy.objects.filter(county=review.household.county).update(reminder_days=[14, 3])
    phone = review.household.phone
    texts = lambda: SmsMessage.objects.filter(phone=phone, text__contains="截止").count()  # noqa: E731
    with django_capture_on_commit_callbacks(execute=True):
        annual_reviews.remind_reviews(review.due_date - timedelta(days=20))
    assert texts() == 0
    with django_capture_on_commit_callbacks(execute=True):
        annual_reviews.remind_reviews(review.due_date - timedelta(days=14))
        annual_reviews.remind_reviews(review.due_date - timedelta(days=14))
        annual_reviews.remind_reviews(review.due_date - timedelta(days=10))
    assert texts() == 1
    with django_capture_on_commit_callbacks(execute=True):
        annual_reviews.remind_reviews(review.due_date - timedelta(days=2))
        annual_reviews.remind_reviews(review.due_date - timedelta(days=1))
    assert texts() == 2
    review.refresh_from_db()
    assert review.reminded_days == [14, 3]


def test_an_unanswered_review_is_flagged_missed_after_its_deadline(review):
    annual_reviews.flag_missed(review.due_date)
    review.refresh_from_db()
    assert review.status == AnnualReview.Status.OPEN  # the deadline day is still in time
    assert annual_reviews.flag_missed(review.due_date + timedelta(days=1)) >= 1
    review.refresh_from_db()
    assert review.status == AnnualReview.Status.MISSED
    assert annual_reviews.flag_missed(review.due_date + timedelta(days=2)) == 0


def test_the_tenant_answers_the_departments_are_asked_and_the_county_decides(review, county_staff):
    household = review.household
    source = Departments()
    done = annual_reviews.submit(
        review.pk, applicant=household.applicant, answers=answers(household), source=source
    )
    assert done.status == AnnualReview.Status.SUBMITTED and done.passed is True
    assert {"police", "property", "tax"} <= set(source.asked)
    assert Evidence.objects.filter(
        subject_type="annual_review", subject_id=review.pk
    ).count() == len(set(source.asked))
    stored = AnnualReview.objects.get(pk=review.pk)
    assert stored.answers["members"][0]["name"] == household.head_name
    with pytest.raises(NotAllowed, match="不能再提交"):
        annual_reviews.submit(
            review.pk, applicant=household.applicant, answers=answers(household), source=source
        )
    operator = make_staff(
        "r-op", "operator", operator=review.contract.unit.building.estate.operator
    )
    with pytest.raises(NotAllowed, match="岗位"):
        annual_reviews.decide(review.pk, approve=True, reasons="", actor=operator)
    with pytest.raises(NotAllowed, match="理由"):
        annual_reviews.decide(review.pk, approve=False, reasons=" ", actor=county_staff)
    annual_reviews.decide(review.pk, approve=True, reasons="", actor=county_staff)
    with pytest.raises(NotAllowed, match="审核通过"):
        annual_reviews.decide(review.pk, approve=False, reasons="重复", actor=county_staff)
    assert AnnualReview.objects.get(pk=review.pk).status == AnnualReview.Status.APPROVED


def test_a_failing_check_is_shown_and_nothing_is_written_when_a_department_is_down(review):
    household = review.household
    with pytest.raises(NotAllowed, match="部门数据查询未完成"):
        annual_reviews.submit(
            review.pk,
            applicant=household.applicant,
            answers=answers(household),
            source=Departments(down=("tax",)),
        )
    assert AnnualReview.objects.get(pk=review.pk).status == AnnualReview.Status.OPEN
    assert not Evidence.objects.filter(subject_type="annual_review", subject_id=review.pk)
    done = annual_reviews.submit(
        review.pk,
        applicant=household.applicant,
        answers=answers(household),
        source=Departments(properties=3),
    )
    assert done.passed is False
    assert any(
        not f["passed"] and f["criterion"].startswith(("property", "area")) for f in done.findings
    )


def test_only_the_tenant_may_answer_and_not_before_opening_fields(review):
    other = lease(start=START, end=date(2028, 3, 9), skip=1)
    with pytest.raises(NotAllowed, match="本人"):
        annual_reviews.submit(
            review.pk,
            applicant=other.household.applicant,
            answers=answers(review.household),
            source=Departments(),
        )
    with pytest.raises(NotAllowed, match="家庭成员"):
        annual_reviews.submit(
            review.pk,
            applicant=review.household.applicant,
            answers={"members": [], "monthly_income": "1"},
            source=Departments(),
        )


def test_a_missed_review_may_be_rejected_and_start_the_exit(review, county_staff, monkeypatch):
    started = []
    fake = types.ModuleType("tenancy.services.exits")
    fake.start = lambda contract_id, **kw: started.append((contract_id, kw))
    monkeypatch.setitem(sys.modules, "tenancy.services.exits", fake)
    import tenancy.services

    monkeypatch.setattr(tenancy.services, "exits", fake, raising=False)
    annual_reviews.flag_missed(review.due_date + timedelta(days=1))
    with pytest.raises(NotAllowed, match="不能审核通过"):
        annual_reviews.decide(review.pk, approve=True, reasons="", actor=county_staff)
    annual_reviews.decide(
        review.pk, approve=False, reasons="逾期未参加年审", actor=county_staff, start_exit=True
    )
    assert started == [
        (
            review.contract_id,
            {
                "reason": "ineligible",
                "actor": county_staff,
                "source_ref": f"annual-review:{review.pk}",
            },
        )
    ]
    assert AnnualReview.objects.get(pk=review.pk).status == AnnualReview.Status.REJECTED
