"""One set-based query per warning rule: the cases that meet it now, each as a Finding with
the county and estate that own it. They read the lower apps' models and selectors only (the
back office's queues sit above insights), using the same conditions as those queues."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from allocation.models import Offer
from disclosure.models import Objection, Publication
from exchange.synthetic import DEPARTMENTS
from geo.models import Region, Unit
from housing.models import Application
from housing.queues import REVIEW_STEPS, waiting_q
from tenancy.models import AnnualReview, Complaint, Contract, RecheckHit
from tenancy.selectors import overdue, owed

UNIT_ESTATE = "unit__building__estate"


@dataclass(frozen=True)
class Finding:
    kind: str
    id: int
    county_id: int | None
    estate_id: int | None
    summary: str
    anchor_id: int | None = None
    unit_id: int | None = None
    household_id: int | None = None


def _day(moment) -> str:
    if isinstance(moment, datetime):
        moment = timezone.localtime(moment)
    return date_format(moment, "Y-m-d")


def review_overdue(t: dict, now: datetime) -> list[Finding]:
    stages = dict(Application.Stage.choices)
    rows = Application.objects.filter(
        waiting_q(REVIEW_STEPS),
        stage_deadline__lt=now - timedelta(days=t["days"]),
    ).values_list("pk", "number", "stage", "stage_deadline", "county_id")
    return [
        Finding(
            "application",
            pk,
            county,
            None,
            _("申请 %(number)s 在“%(stage)s”环节已超过时限（%(deadline)s）")
            % {"number": number, "stage": stages.get(stage, stage), "deadline": _day(deadline)},
            household_id=pk,
        )
        for pk, number, stage, deadline, county in rows.iterator()
    ]


def offer_expiring(t: dict, now: datetime) -> list[Finding]:
    rows = Offer.objects.filter(
        status=Offer.Status.PENDING, expires_at__lt=now + timedelta(hours=t["hours"])
    ).values_list(
        "pk",
        "round_id",
        "round__name",
        "round__county_id",
        f"{UNIT_ESTATE}_id",
        "unit_id",
        "household_id",
        "expires_at",
    )
    return [
        Finding(
            "offer",
            pk,
            county,
            estate,
            _("配租（%(round)s）将于 %(at)s 截止确认，尚未确认")
            % {"round": name, "at": date_format(timezone.localtime(at), "Y-m-d H:i")},
            anchor_id=round_id,
            unit_id=unit,
            household_id=household,
        )
        for pk, round_id, name, county, estate, unit, household, at in rows.iterator()
    ]


def contract_ending(t: dict, now: datetime) -> list[Finding]:
    today = timezone.localdate(now)
    rows = Contract.objects.filter(
        status=Contract.Status.ACTIVE, end_date__lte=today + timedelta(days=t["days"])
    ).values_list(
        "pk",
        "number",
        "end_date",
        f"{UNIT_ESTATE}__district_id",
        f"{UNIT_ESTATE}_id",
        "unit_id",
        "household_id",
    )
    return [
        Finding(
            "contract",
            pk,
            county,
            estate,
            _("合同 %(number)s 将于 %(end)s 到期") % {"number": number, "end": _day(end)},
            unit_id=unit,
            household_id=household,
        )
        for pk, number, end, county, estate, unit, household in rows.iterator()
    ]


def arrears(t: dict, now: datetime) -> list[Finding]:
    """Leases with at least `months` overdue unpaid bills (tenancy.selectors.overdue)."""
    late = overdue(timezone.localdate(now), "bills__")
    rows = (
        Contract.objects.annotate(months=Count("bills", filter=late), amount=owed("bills__", late))
        .filter(months__gte=t["months"])
        .values_list(
            "pk",
            "number",
            "months",
            "amount",
            f"{UNIT_ESTATE}__district_id",
            f"{UNIT_ESTATE}_id",
            "unit_id",
            "household_id",
        )
    )
    return [
        Finding(
            "contract",
            pk,
            county,
            estate,
            _("合同 %(number)s 欠租 %(months)s 个月，欠缴 %(amount)s 元")
            % {"number": number, "months": months, "amount": f"{amount:,.2f}"},
            unit_id=unit,
            household_id=household,
        )
        for pk, number, months, amount, county, estate, unit, household in rows.iterator()
    ]


def unit_vacant(t: dict, now: datetime) -> list[Finding]:
    """Vacant since the row last changed (as insights.statistics.stock reads it)."""
    rows = Unit.objects.filter(
        status=Unit.Status.VACANT, updated_at__lte=now - timedelta(days=t["days"])
    ).values_list(
        "pk",
        "number",
        "building__number",
        "building__estate__name",
        "building__estate__district_id",
        "building__estate_id",
        "updated_at",
    )
    return [
        Finding(
            "unit",
            pk,
            county,
            estate,
            _("%(estate)s %(building)s 栋 %(unit)s 已空置 %(days)s 天")
            % {"estate": name, "building": building, "unit": number, "days": (now - since).days},
            unit_id=pk,
        )
        for pk, number, building, name, county, estate, since in rows.iterator()
    ]


def recheck_hit(t: dict, now: datetime) -> list[Finding]:
    rows = RecheckHit.objects.filter(
        status=RecheckHit.Status.OPEN, first_seen_at__lte=now - timedelta(days=t["days"])
    ).values_list(
        "pk",
        "contract__number",
        "department",
        "finding",
        "county_id",
        f"contract__{UNIT_ESTATE}_id",
        "contract__unit_id",
        "household_id",
    )
    return [
        Finding(
            "recheck_hit",
            pk,
            county,
            estate,
            _("合同 %(number)s 的承租家庭动态核查疑点：%(what)s（%(dept)s）")
            % {
                "number": number,
                "what": (finding or {}).get("label", "") if isinstance(finding, dict) else "",
                "dept": DEPARTMENTS.get(dept, dept),
            },
            unit_id=unit,
            household_id=household,
        )
        for pk, number, dept, finding, county, estate, unit, household in rows.iterator()
    ]


def annual_review_missed(t: dict, now: datetime) -> list[Finding]:
    """Marked missed, or still unanswered `days` after its deadline."""
    today = timezone.localdate(now)
    rows = AnnualReview.objects.filter(
        status__in=[AnnualReview.Status.OPEN, AnnualReview.Status.MISSED],
        due_date__lt=today - timedelta(days=t["days"]),
    ).values_list(
        "pk",
        "year",
        "contract__number",
        "due_date",
        f"contract__{UNIT_ESTATE}__district_id",
        f"contract__{UNIT_ESTATE}_id",
        "contract__unit_id",
        "household_id",
    )
    return [
        Finding(
            "annual_review",
            pk,
            county,
            estate,
            _("合同 %(number)s 的 %(year)s 年度年审逾期未填报（截止 %(due)s）")
            % {"number": number, "year": year, "due": _day(due)},
            unit_id=unit,
            household_id=household,
        )
        for pk, year, number, due, county, estate, unit, household in rows.iterator()
    ]


def repeated_complaints(t: dict, now: datetime) -> list[Finding]:
    """Units named by at least `count` public complaints in the last `days` days."""
    rows = (
        Complaint.objects.filter(
            unit__isnull=False, created_at__gte=now - timedelta(days=t["days"])
        )
        .values("unit_id")
        .annotate(n=Count("pk"), last=Max("created_at"))
        .filter(n__gte=t["count"])
        .values_list(
            "unit_id",
            "n",
            "unit__number",
            "unit__building__number",
            f"{UNIT_ESTATE}__name",
            f"{UNIT_ESTATE}__district_id",
            f"{UNIT_ESTATE}_id",
        )
    )
    return [
        Finding(
            "unit",
            unit,
            county,
            estate,
            _("%(estate)s %(building)s 栋 %(unit)s 近 %(days)s 天被举报 %(n)s 次")
            % {"estate": name, "building": building, "unit": number, "days": t["days"], "n": n},
            unit_id=unit,
        )
        for unit, n, number, building, name, county, estate in rows.iterator()
    ]


def publicity_objections(t: dict, now: datetime) -> list[Finding]:
    """Publicity lists whose period ends within `days` days (or has ended) with objections
    still open."""
    open_objections = Objection.objects.filter(
        publication=OuterRef("pk"), status=Objection.Status.OPEN
    )
    rows = (
        Publication.objects.filter(period_ends_at__lt=now + timedelta(days=t["days"]))
        .filter(Exists(open_objections))
        .annotate(n=Count("objections", filter=Q(objections__status=Objection.Status.OPEN)))
        .values_list(
            "pk",
            "title",
            "period_ends_at",
            "n",
            "region_id",
            "region__level",
            "region__parent_id",
            "region__parent__parent_id",
        )
    )
    return [
        Finding(
            "publication",
            pk,
            _county(level, region, parent, grand),
            None,
            _("《%(title)s》公示 %(at)s 截止，尚有 %(n)s 条异议未处理")
            % {
                "title": title[:120],
                "at": date_format(timezone.localtime(ends), "Y-m-d H:i"),
                "n": n,
            },
        )
        for pk, title, ends, n, region, level, parent, grand in rows.iterator()
    ]


def _county(level: str, region: int, parent: int | None, grand: int | None) -> int | None:
    """The county a region lies in (None for the city: its staff own it)."""
    return {
        Region.Level.DISTRICT: region,
        Region.Level.STREET: parent,
        Region.Level.COMMUNITY: grand,
    }.get(level)


FINDERS: dict[str, Callable[[dict, datetime], list[Finding]]] = {
    "review_overdue": review_overdue,
    "offer_expiring": offer_expiring,
    "contract_ending": contract_ending,
    "arrears": arrears,
    "unit_vacant": unit_vacant,
    "recheck_hit": recheck_hit,
    "annual_review_missed": annual_review_missed,
    "repeated_complaints": repeated_complaints,
    "publicity_objections": publicity_objections,
}
