"""年审: once a year the tenant household confirms its members, income and housing online, the
departments are asked the same questions as for the application, and the county decides.

Calendar: a lease's review opens on each anniversary of its start date (not a county-wide day,
so the work spreads over the year and nobody is asked twice in a month; a run that was missed
catches up within `answer_days`), is due the county's
`answer_days` later (ReviewPolicy), is reminded on the policy's days before that deadline and
is flagged missed the day after it. Decisions are the county's (city or county housing
department staff, within their jurisdiction); operators, streets and communities see the queue
to follow up with households, but do not decide eligibility.
"""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from archive.services import record_event
from exchange.models import Evidence
from exchange.sources import DataSource, SourceUnavailable, query_all
from geo.jurisdiction import profile_of
from housing import rules
from housing.errors import NotAllowed
from housing.inbox import notify_household
from housing.models import Applicant, EligibilityRule, Household
from tenancy.models import AnnualReview, Contract, ReviewPolicy
from tenancy.services.contracts import add_months

DECIDERS = {"city", "district"}
# Who answered: what the tenant may write in the form (everything else is ignored).
ANSWER_KEYS = ("members", "monthly_income", "other_housing", "housing_note", "changes")


def policy_for(county) -> ReviewPolicy:
    policy, _ = ReviewPolicy.objects.get_or_create(county=county)
    return policy


def may_decide(user) -> bool:
    """City and county housing departments decide 年审 and 续租; others only follow them."""
    if user.is_authenticated and user.is_superuser:
        return True
    profile = profile_of(user)
    return bool(profile and profile.role in DECIDERS)


def department_check(
    household: Household, subject_type: str, subject_id: int, answers: dict
) -> tuple[list[dict], bool, dict]:
    """联审 again for a tenant: every answer kept as encrypted evidence, the county's rules
    applied as for the application (housing.rules). Returns findings, passed, facts."""
    Evidence.objects.bulk_create(
        Evidence(
            subject_type=subject_type,
            subject_id=subject_id,
            department=a.department,
            source=a.source,
            fetched_at=a.fetched_at,
            payload=a.payload,
            payload_hash=a.payload_hash,
        )
        for a in answers.values()
    )
    members = max(len(answers["police"].payload.get("members") or []), 1)
    facts = rules.facts_from_answers(answers, members)
    county_rules = list(EligibilityRule.objects.filter(county=household.county))
    findings = rules.apply_rules(county_rules, facts, {d: a.source for d, a in answers.items()})
    return (
        [f.as_dict() for f in findings],
        all(f.passed for f in findings),
        {k: str(v) for k, v in facts.items()},
    )


def ask_departments(household: Household, source: DataSource | None = None) -> dict:
    """Every department's answer, or NotAllowed naming the ones that did not answer."""
    try:
        return query_all(household.head_id_number, source)
    except SourceUnavailable as exc:
        raise NotAllowed(
            gettext("部门数据查询未完成：%(error)s。请稍后再试。") % {"error": exc}
        ) from exc


# --- the calendar (jobs) ---------------------------------------------------------------------


def anniversary(contract: Contract, today: date) -> date | None:
    """The latest anniversary of the lease's start on or before today, if the lease ran a year."""
    years = today.year - contract.start_date.year
    for back in (0, 1):
        day = add_months(contract.start_date, 12 * (years - back))
        if contract.start_date < day <= today:
            return day
    return None


def open_due_reviews(today: date | None = None) -> int:
    """Daily: a review for each active lease whose anniversary has come and whose year has
    none yet; the household is told. Idempotent (one review per lease and year)."""
    today = today or timezone.localdate()
    contracts = Contract.objects.filter(
        status=Contract.Status.ACTIVE, start_date__lt=today - timedelta(days=300)
    ).select_related("household__applicant", "unit__building")
    due = [(c, day) for c in contracts if (day := anniversary(c, today))]
    have = set(
        AnnualReview.objects.filter(contract__in=[c for c, _ in due]).values_list(
            "contract_id", "year"
        )
    )
    opened = 0
    policies: dict[int, ReviewPolicy] = {}
    for contract, day in due:
        if (contract.pk, day.year) in have:
            continue
        county_id = contract.household.county_id
        policy = policies.get(county_id) or policies.setdefault(
            county_id, policy_for(contract.household.county)
        )
        if day < today - timedelta(days=policy.answer_days):
            continue  # an anniversary long past (before the system ran): next year's opens
        deadline = today + timedelta(days=policy.answer_days)
        if deadline > contract.end_date:
            continue  # the lease ends first: the renewal asks the same questions
        if _open(contract, day.year, today, deadline):
            opened += 1
    return opened


def _open(contract: Contract, year: int, today: date, deadline: date) -> bool:
    try:
        with transaction.atomic():
            review = AnnualReview.objects.create(
                contract=contract,
                household=contract.household,
                year=year,
                opened_on=today,
                due_date=deadline,
            )
            record_event(
                "annual_review.opened",
                f"{year} 年度年审开启（合同 {contract.number}），{deadline:%Y-%m-%d} 前填报",
                actor=None,
                unit_id=contract.unit_id,
                estate_id=contract.unit.building.estate_id,
                household_id=contract.household_id,
                after={"review": review.pk, "due": deadline.isoformat()},
            )
            notify_household(
                contract.household,
                "annual_review.opened",
                url=reverse("my-annual-review", args=[review.pk]),
                year=year,
                deadline=deadline,
            )
    except IntegrityError:
        return False  # another run opened it a moment ago
    return True


def remind_reviews(today: date | None = None) -> int:
    """Daily: an open review is reminded once at each of the county's days before its
    deadline (a missed day is caught up once, not once per step)."""
    today = today or timezone.localdate()
    sent = 0
    policies: dict[int, ReviewPolicy] = {}
    open_ = AnnualReview.objects.filter(
        status=AnnualReview.Status.OPEN, due_date__gte=today
    ).select_related("household__county")
    for review in open_:
        county = review.household.county
        policy = policies.get(county.pk) or policies.setdefault(county.pk, policy_for(county))
        left = (review.due_date - today).days
        steps = [d for d in policy.reminder_days if isinstance(d, int) and d >= left]
        if not steps or set(steps) <= set(review.reminded_days):
            continue
        with transaction.atomic():
            locked = (
                AnnualReview.objects.select_for_update(skip_locked=True)
                .filter(pk=review.pk, status=AnnualReview.Status.OPEN)
                .first()
            )
            if locked is None or set(steps) <= set(locked.reminded_days):
                continue
            locked.reminded_days = sorted(set(locked.reminded_days) | set(steps), reverse=True)
            locked.save(update_fields=["reminded_days"])
            record_event(
                "annual_review.reminded",
                f"{locked.year} 年度年审提醒：距截止还有 {left} 天",
                actor=None,
                household_id=locked.household_id,
                after={"review": locked.pk, "days_left": left},
            )
            notify_household(
                review.household,
                "annual_review.reminded",
                url=reverse("my-annual-review", args=[locked.pk]),
                days_left=left,
                year=locked.year,
                deadline=locked.due_date,
            )
            sent += 1
    return sent


def flag_missed(today: date | None = None) -> int:
    """Daily: open reviews past their deadline become missed, each with its event and a
    message to the household; the county's queue and to-do list show them."""
    today = today or timezone.localdate()
    flagged = 0
    with transaction.atomic():
        late = list(
            AnnualReview.objects.select_for_update(skip_locked=True)
            .filter(status=AnnualReview.Status.OPEN, due_date__lt=today)
            .select_related("household", "contract")
        )
        for review in late:
            review.status = AnnualReview.Status.MISSED
            review.save(update_fields=["status"])
            record_event(
                "annual_review.missed",
                f"{review.year} 年度年审逾期未填报（截止 {review.due_date:%Y-%m-%d}）",
                actor=None,
                unit_id=review.contract.unit_id,
                household_id=review.household_id,
                after={"review": review.pk},
            )
            notify_household(
                review.household,
                "annual_review.missed",
                url=reverse("my-annual-review", args=[review.pk]),
                year=review.year,
                deadline=review.due_date,
            )
            flagged += 1
    return flagged


# --- the tenant's answer and the county's decision --------------------------------------------


def _clean_answers(answers: dict) -> dict:
    clean = {k: answers[k] for k in ANSWER_KEYS if k in answers}
    members = [m for m in clean.get("members") or [] if (m.get("name") or "").strip()]
    if not members:
        raise NotAllowed(
            gettext("请填写家庭成员（至少包括承租人本人），可点击“读取部门数据”自动填写。")
        )
    clean["members"] = members
    if clean.get("monthly_income") is None:
        raise NotAllowed(gettext("请填写“家庭月收入（元）”。"))
    clean["monthly_income"] = str(clean["monthly_income"])
    return clean


def submit(
    review_id: int, *, applicant: Applicant, answers: dict, source: DataSource | None = None
) -> AnnualReview:
    """The tenant's confirmation: the departments are asked before the row is locked (they
    may take seconds), and the answers and evidence are written only if the review is still
    open (or missed: a late answer is still welcome)."""
    review = AnnualReview.objects.select_related("household").get(pk=review_id)
    if review.household.applicant_id != applicant.pk:
        raise NotAllowed(gettext("只有承租人本人可以填报年审。"))
    _check_answerable(review)
    clean = _clean_answers(answers)
    department = ask_departments(review.household, source)
    with transaction.atomic():
        review = (
            AnnualReview.objects.select_for_update(of=("self",))
            .select_related("household__county", "contract")
            .get(pk=review_id)
        )
        _check_answerable(review)
        findings, passed, facts = department_check(
            review.household, "annual_review", review.pk, department
        )
        before = review.status
        review.answers = clean | {"department_facts": facts}
        review.findings, review.passed = findings, passed
        review.status, review.submitted_at = AnnualReview.Status.SUBMITTED, timezone.now()
        review.save()
        record_event(
            "annual_review.submitted",
            f"{review.year} 年度年审已提交（大数据比对：{'全部符合' if passed else '有不符合项'}）",
            actor=None,
            unit_id=review.contract.unit_id,
            household_id=review.household_id,
            before={"status": before},
            after={"review": review.pk, "passed": passed, "members": len(clean["members"])},
        )
    return review


def _check_answerable(review: AnnualReview) -> None:
    if review.status not in (AnnualReview.Status.OPEN, AnnualReview.Status.MISSED):
        raise NotAllowed(
            gettext("该年审%(status)s，不能再提交。") % {"status": review.get_status_display()}
        )


def decide(
    review_id: int, *, approve: bool, reasons: str, actor, start_exit: bool = False
) -> AnnualReview:
    """The county's decision with reasons; a rejection may start the exit (no longer
    eligible), which the exits service carries on. A double click decides once."""
    if not may_decide(actor):
        raise NotAllowed("年审由县区住房保障部门审核，您的岗位不能作出决定。")
    reasons = reasons.strip()
    if not approve and not reasons:
        raise NotAllowed("不予通过须在“审核意见”中写明理由。")
    if start_exit and approve:
        raise NotAllowed("审核通过的年审不能启动退出。")
    with transaction.atomic():
        review = (
            AnnualReview.objects.select_for_update(of=("self",))
            .select_related("household", "contract__unit__building")
            .get(pk=review_id)
        )
        allowed = (
            (AnnualReview.Status.SUBMITTED,)
            if approve
            else (AnnualReview.Status.SUBMITTED, AnnualReview.Status.MISSED)
        )
        if review.status not in allowed:
            raise NotAllowed(
                f"该年审当前为“{review.get_status_display()}”，不能"
                f"{'审核通过' if approve else '作出不予通过的决定'}。"
            )
        before = review.status
        review.status = AnnualReview.Status.APPROVED if approve else AnnualReview.Status.REJECTED
        review.decided_by, review.decided_at, review.reasons = actor, timezone.now(), reasons
        review.save()
        label = "审核通过" if approve else "审核不通过"
        record_event(
            f"annual_review.{'approved' if approve else 'rejected'}",
            f"{review.year} 年度年审{label}",
            actor=actor,
            unit_id=review.contract.unit_id,
            estate_id=review.contract.unit.building.estate_id,
            household_id=review.household_id,
            reason=reasons,
            before={"status": before},
            after={"review": review.pk, "status": review.status, "exit": start_exit},
        )
        if start_exit:
            from tenancy.services import exits

            exits.start(
                review.contract_id,
                reason="ineligible",
                actor=actor,
                source_ref=f"annual-review:{review.pk}",
            )
        notify_household(
            review.household,
            ("annual_review.approved_noted" if reasons else "annual_review.approved")
            if approve
            else "annual_review.rejected",
            url=reverse("my-annual-review", args=[review.pk]),
            year=review.year,
            reasons=reasons,
        )
    return review
