"""待办: what waits for the signed-in staff member, counted in a few queries for the start page.

Each count uses the same filter as the list it links to, so the number and the list agree.
"""

from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.db.models import Count, Min, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from allocation.models import Offer, Round
from backoffice import allocation, contracts, publishing, review
from backoffice.claims import pending_count
from disclosure.models import Objection
from geo.jurisdiction import estate_scope, may
from housing.models import Application
from insights.warnings.rules import threshold
from tenancy.models import Contract
from tenancy.selectors import open_warnings


def offer_warning() -> timedelta:
    """An offer still unconfirmed this close to its deadline is worth a call to the household
    (the warning centre's offer_expiring threshold, data/warning-rules.json)."""
    return timedelta(hours=threshold("offer_expiring", "hours"))


@dataclass(frozen=True)
class Task:
    """One line of the to-do list: how many, of what, and where the list of them is."""

    label: str
    count: int
    url: str
    note: str = ""
    urgent: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    tasks: list[Task]


def pending_work(user) -> list[Section]:
    """The user's pending work, by module; a module that is not the user's work is left out."""
    sections = [
        _review(user),
        _publishing(user),
        _allocation(user),
        _contracts(user),
        _operations(user),
        _credit(user),
        _warnings(user),
    ]
    return [s for s in sections if s is not None and s.tasks]


def _review(user) -> Section | None:
    steps = review.my_steps(user)
    tasks: list[Task] = []
    queue = reverse("review-queue")
    if steps:
        counts = (
            review.openable(user, steps)
            .order_by()
            .aggregate(
                waiting=Count("pk", filter=review.waiting_q(steps)),
                overdue=Count("pk", filter=review.overdue_q(steps)),
                returned=Count("pk", filter=review.returned_q(steps)),
                publicity=Count("pk", filter=_publicity_ready()),
                counties=Count("county", filter=_publicity_ready(), distinct=True),
            )
        )
        tasks += [
            Task(_("待我办理的申请"), counts["waiting"], queue),
            Task(
                _("已超时的申请"),
                counts["overdue"],
                f"{queue}?show=overdue",
                urgent=True,
            ),
            Task(
                _("退回补正、等待申请人"),
                counts["returned"],
                f"{queue}?show=returned",
            ),
        ]
        if "publicity" in steps:
            tasks.append(
                Task(
                    _("审核通过、待发起公示的家庭"),
                    counts["publicity"],
                    f"{queue}#publicity",
                    note=_("%(n)s 个县（区）") % {"n": counts["counties"]}
                    if counts["publicity"]
                    else "",
                )
            )
    claims = pending_count(user)
    if claims is not None:
        tasks.append(Task(_("待核实的身份认领"), claims, reverse("review-claims")))
    return Section(_("申请审核"), tasks)


def _publicity_ready() -> Q:
    return Q(stage=Application.Stage.PUBLICITY, review_outbox__isnull=True)


def _publishing(user) -> Section | None:
    if not may(user, "can_publish"):
        return None
    objections = Objection.objects.filter(
        publication__region__in=publishing.publishing_regions(user),
        status=Objection.Status.OPEN,
    ).count()
    return Section(
        _("信息公开"),
        [Task(_("待处理的公示异议"), objections, reverse("publishing-objections"))],
    )


def _allocation(user) -> Section | None:
    counties = allocation.round_counties(user)
    if not counties:
        return None
    now = timezone.now()
    needs = allocation.round_needs(now)
    counts = (
        Round.objects.filter(county__in=counties)
        .order_by()
        .aggregate(**{key: Count("pk", filter=condition) for key, condition in needs.items()})
    )
    rounds = reverse("allocation-rounds")
    tasks = [
        Task(label, counts[key], f"{rounds}?needs={key}", urgent=key == "close")
        for key, label in allocation.NEEDS_LABELS
    ]
    expiring = list(
        Offer.objects.filter(
            round__county__in=counties,
            status=Offer.Status.PENDING,
            expires_at__lt=now + offer_warning(),
        )
        .order_by()
        .values("round_id", "round__name")
        .annotate(n=Count("pk"), first=Min("expires_at"))
        .order_by("first")
    )
    tasks += [
        Task(
            _("即将到期、尚未确认的配租（%(round)s）") % {"round": row["round__name"]},
            row["n"],
            reverse("allocation-round", args=[row["round_id"]]) + "#board",
            note=_("最早 %(at)s 到期")
            % {"at": date_format(timezone.localtime(row["first"]), "m-d H:i")},
            urgent=True,
        )
        for row in expiring
    ] or [Task(_("即将到期、尚未确认的配租"), 0, f"{rounds}?status={Round.Status.CHOOSING}")]
    return Section(_("轮候配租"), tasks)


def expiring() -> timedelta:
    """Leases about to end are worth a renewal conversation (the contract_ending threshold)."""
    return timedelta(days=threshold("contract_ending", "days"))


def _contracts(user) -> Section | None:
    if not contracts.may_act(user):
        return None
    today = timezone.localdate()
    counts = (
        contracts.visible_contracts(user)
        .order_by()
        .aggregate(
            **{
                status: Count("pk", filter=Q(status=status))
                for status in ("awaiting_tenant", "awaiting_approval", "signed")
            },
            expiring=Count(
                "pk", filter=Q(status=Contract.Status.ACTIVE, end_date__lte=today + expiring())
            ),
        )
    )
    listing = reverse("contracts")
    return Section(
        _("合同签订"),
        [
            Task(
                _("待生成合同的配租"),
                contracts.visible_offers(user).count(),
                f"{listing}?tab=offers",
            ),
            Task(
                _("待审核签章的合同"),
                counts["awaiting_approval"],
                f"{listing}?tab=awaiting_approval",
            ),
            Task(
                _("待承租人确认的合同"), counts["awaiting_tenant"], f"{listing}?tab=awaiting_tenant"
            ),
            Task(_("已签订、待办理入住"), counts["signed"], f"{listing}?tab=signed"),
            Task(_("3 个月内到期的合同"), counts["expiring"], f"{listing}?tab=expiring"),
        ],
    )


def _operations(user) -> Section | None:
    """运营管理: arrears warnings, then each 配后管理 queue's own counts (grid workers too)."""
    tasks = []
    if contracts.may_act(user):
        tasks.append(
            Task(
                _("未解除的欠租预警"),
                open_warnings(estate_scope(user, "contract__unit__building__estate__")).count(),
                reverse("rent-arrears") + "#warnings-title",
                urgent=True,
            )
        )
    for module in OPERATIONS_QUEUES:
        tasks += import_module(module).pending_tasks(user)
    return Section(_("运营管理"), tasks) if tasks else None


# Each 配后管理 queue's module, whose `pending_tasks(user)` lists its counts ([] when it is not
# the user's work). Imported when asked: those modules import Task from here.
OPERATIONS_QUEUES = [
    "backoffice.recheck",
    "backoffice.annual_reviews",
    "backoffice.renewals",
    "backoffice.repairs",
    "backoffice.violations",
    "backoffice.inspections",
    "backoffice.exits",
    "backoffice.evaluation",
]


def _credit(user) -> Section | None:
    """信用管理: proposals due for 认定, objections to answer, repairs to review."""
    tasks = import_module("backoffice.credit").pending_tasks(user)
    return Section(_("信用管理"), tasks) if tasks else None


def _warnings(user) -> Section | None:
    """自动预警: live warnings per rule in the user's jurisdiction and the unread 站内信, in
    one query (a UNION), each linking to its list."""
    from django.db.models import CharField, Value

    from insights.models import StaffMessage, Warning
    from insights.warnings.rules import RulesError, load_rules

    unread_key = "__unread__"
    by_rule = (
        Warning.objects.live()
        .visible_to(user)
        .values_list("rule")
        .annotate(n=Count("pk"))
        .order_by()
    )
    unread = (
        StaffMessage.objects.filter(recipient_id=user.pk, read_at__isnull=True)
        .annotate(key=Value(unread_key, output_field=CharField()))
        .values_list("key")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = dict(by_rule.union(unread, all=True))
    try:
        rules = load_rules()
    except RulesError:
        rules = {}
    centre = reverse("warnings")
    tasks = [
        Task(
            rules[code].name if code in rules else code,
            n,
            f"{centre}?rule={code}",
            urgent=code in rules and rules[code].severity == "high",
        )
        for code, n in sorted(counts.items())
        if code != unread_key
    ] or [Task(_("未解除的预警"), 0, centre)]
    tasks.append(Task(_("未读站内信"), counts.get(unread_key, 0), reverse("staff-messages")))
    return Section(_("自动预警"), tasks)
