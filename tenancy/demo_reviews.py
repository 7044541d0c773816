"""Demo 年审 and 续租 for the demo city, made through tenancy.services: reviews opened on the
anniversaries of the last two months (open, reminded, missed, submitted, approved, rejected),
and renewals of a few stock leases (存量合同) whose term the demo shortens to end within the
notice period: one reminded only, one awaiting the county's decision, one approved with its
renewal lease awaiting the tenant's confirmation. Departments answer offline (SyntheticSource).
"""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Q

from exchange.sources import SyntheticSource
from housing.errors import NotAllowed
from tenancy.models import AnnualReview, Contract, LeaseTemplate, Renewal
from tenancy.services import annual_reviews, contracts, renewals

DEMO_CLERK = "demo-seed"


def _answers(contract: Contract) -> dict:
    household = contract.household
    return {
        "members": [
            {"name": m.name, "relation": m.relation_text or "本人", "id_number": m.id_number}
            for m in household.members.all()
        ]
        or [{"name": household.head_name, "relation": "本人", "id_number": ""}],
        "monthly_income": "1800",
        "other_housing": "none",
        "housing_note": "",
        "changes": "",
    }


def load(today: date) -> str:
    """Create the demo cases; returns a one-line Chinese summary (once: a second load adds
    nothing)."""
    if AnnualReview.objects.exclude(status=AnnualReview.Status.OPEN).exists():
        return "年审与续租演示数据已存在"
    source = SyntheticSource()
    clerk = get_user_model().objects.filter(username=DEMO_CLERK).first()
    for back in range(60, -1, -1):
        day = today - timedelta(days=back)
        annual_reviews.flag_missed(day)
        annual_reviews.open_due_reviews(day)
        annual_reviews.remind_reviews(day)
    waiting = {
        status: list(
            AnnualReview.objects.filter(status=status, household__applicant__isnull=False)
            .select_related("household__applicant", "contract")
            .order_by("pk")
        )
        for status in (AnnualReview.Status.OPEN, AnnualReview.Status.MISSED)
    }
    # One of each left as it is; the others answered (a missed one late), a few decided.
    submitted = []
    for review in [*waiting["open"][1:], *waiting["missed"][1:]]:
        try:
            submitted.append(
                annual_reviews.submit(
                    review.pk,
                    applicant=review.household.applicant,
                    answers=_answers(review.contract),
                    source=source,
                )
            )
        except NotAllowed:
            continue
    if clerk is not None and len(submitted) > 1:
        decided = submitted[:-1]  # the last one waits for the county
        passing = [r for r in decided if r.passed]
        failing = [r for r in decided if not r.passed]
        for review in passing[: max(1, len(passing) // 2)]:
            annual_reviews.decide(review.pk, approve=True, reasons="", actor=clerk)
        for review in failing[:1]:
            annual_reviews.decide(
                review.pk,
                approve=False,
                reasons="（演示）部门比对显示家庭情况不再符合保障条件，不予通过。",
                actor=clerk,
            )
    renewed = _renewals(today, source, clerk)
    counts = {
        label: AnnualReview.objects.filter(status=code).count()
        for code, label in AnnualReview.Status.choices
    }
    reviews = "，".join(f"{label} {n}" for label, n in counts.items() if n)
    return f"年审 {sum(counts.values())} 份（{reviews}）；{renewed}"


def _renewals(today: date, source, clerk) -> str:
    """Three stock leases of a county with a lease template, shortened to end within the
    renewal window, then reminded, asked for and decided through the services."""
    counties = LeaseTemplate.objects.values_list("county_id", flat=True)
    stock = list(
        Contract.objects.filter(
            Q(number__startswith="CL"),
            status=Contract.Status.ACTIVE,
            household__county_id__in=counties,
            household__applicant__isnull=False,
            renewed_by__isnull=True,
            renewals__isnull=True,
        )
        .select_related("household__applicant")
        .order_by("pk")[:3]
    )
    for i, contract in enumerate(stock):
        end = today + timedelta(days=40 + 15 * i)
        if end > contract.start_date:
            Contract.objects.filter(pk=contract.pk).update(end_date=end)
            contract.end_date = end
    renewals.remind_renewals(today)
    made = []
    for contract in stock[1:]:
        try:
            made.append(
                renewals.apply(
                    contract.pk,
                    applicant=contract.household.applicant,
                    months=contracts.policy_for(contract.household.county).max_term_months,
                    answers=_answers(contract),
                    source=source,
                )
            )
        except NotAllowed:
            continue
    approved = 0
    if clerk is not None and made:
        last = made[-1]
        if not last.passed:
            renewals.recheck(last.pk, actor=clerk, source=source)
            last.refresh_from_db()
        if last.passed:
            try:
                renewals.decide(last.pk, approve=True, reasons="", actor=clerk)
                approved = 1
            except NotAllowed:
                pass
    pending = Renewal.objects.filter(status=Renewal.Status.PENDING).count()
    return f"续租申请 {len(made)} 份（待审核 {pending}，已同意并生成续租合同 {approved}）"
