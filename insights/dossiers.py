"""一房一档 / 一户一档: everything that happened to one unit or one household, in time order.

The archive's events are the spine (they are append-only and chained); rows the services keep
elsewhere without one event each — monthly bills, lottery places — are merged in, and the
stored files (contract PDFs, photos) are listed with their SHA-256. A dossier is read with a
fixed number of queries whatever its length, so a batch of a thousand stays linear.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from allocation.models import Participant, Slot, WaitlistEntry
from archive.labels import action_label
from archive.models import Document, Event
from credit import evidence
from credit.models import Proposal
from credit.models import Repair as CreditRepair
from geo.jurisdiction import estate_scope, place_scope, profile_of
from geo.models import Unit
from housing.models import DataCheck, Household
from tenancy.models import Bill, CaseRecord, Contract, Inspection, RepairPhoto


@dataclass(frozen=True)
class Entry:
    at: datetime
    label: str
    summary: str
    actor: str
    url: str = ""


@dataclass(frozen=True)
class FileRef:
    document: Document
    label: str
    at: datetime


@dataclass(frozen=True)
class Evidence:
    """One 联审 line: what a department's data said against the county's rule."""

    label: str
    found: str
    rule: str
    source: str
    passed: bool


@dataclass
class Dossier:
    kind: str  # "unit" | "household"
    subject_id: int
    title: str
    county_id: int | None
    facts: list[tuple[str, str]] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    files: list[FileRef] = field(default_factory=list)
    # 一户一档 only: each 大数据比对 of the application, newest first, as (time, lines).
    checks: list[tuple[datetime, list[Evidence]]] = field(default_factory=list)


# Where an event's subject is shown in the back office: (action prefix, key in `after`, URL).
LINKS = [
    ("contract.", "contract", "contract-detail"),
    ("repair.", "repair", "repair-detail"),
    ("violation.", "case", "violation"),
    ("complaint.", "complaint", "violation-complaint"),
    ("exit.", "exit", "exit"),
    ("contract.rent_changed", "exit", "exit"),
    ("annual_review.", "review", "annual-review"),
    ("renewal.", "renewal", "renewal"),
    ("recheck.", "hit", "recheck-hit"),
    ("credit.", "record", "credit-record"),
    ("credit.", "proposal", "credit-proposal"),
    ("offer.", "round", "allocation-round"),
]


def units_in_scope(user: AbstractBaseUser) -> QuerySet[Unit]:
    """The units a staff member may open the file of: those of estates they may see."""
    return Unit.objects.filter(estate_scope(user, "building__estate__"))


def households_in_scope(user: AbstractBaseUser) -> QuerySet[Household]:
    """Households of the user's region, or, for an operator, those holding a lease of theirs."""
    profile = profile_of(user)
    if profile is not None and profile.operator_id and not user.is_superuser:
        leased = Contract.objects.filter(unit__building__estate__operator_id=profile.operator_id)
        return Household.objects.filter(pk__in=leased.values("household_id"))
    return Household.objects.filter(place_scope(user, county="county"))


def _link(event: Event) -> str:
    after = event.after if isinstance(event.after, dict) else {}
    for prefix, key, name in LINKS:
        if event.action.startswith(prefix) and isinstance(after.get(key), int):
            try:
                return reverse(name, args=[after[key]])
            except NoReverseMatch:
                return ""
    if event.action.startswith("application.") and event.household_id:
        return reverse("review-detail", args=[event.household_id])
    return ""


def _actor(event: Event) -> str:
    if event.actor is None:
        return _("系统")
    return event.actor.get_full_name() or event.actor.get_username()


def period_q(since: date | None, until: date | None) -> Q:
    """Rows whose `at` lies inside [since, until] (whole local days); no bound when None."""
    q = Q()
    zone = timezone.get_current_timezone()
    if since:
        q &= Q(at__gte=datetime.combine(since, time.min, zone))
    if until:
        q &= Q(at__lte=datetime.combine(until, time.max, zone))
    return q


def _in_window(moment: datetime, since: date | None, until: date | None) -> bool:
    day = timezone.localdate(moment)
    return (since is None or day >= since) and (until is None or day <= until)


def _events(condition: Q, since: date | None, until: date | None) -> list[Entry]:
    events = Event.objects.filter(condition & period_q(since, until)).select_related("actor")
    return [
        Entry(e.at, action_label(e.action), e.summary, _actor(e), _link(e))
        for e in events.order_by("at", "id")
    ]


def _bills(contracts: Q) -> list[Entry]:
    """One line per monthly bill: 一户一档 keeps what was owed as well as what was paid."""
    bills = Bill.objects.filter(contracts).select_related("contract").order_by("month", "pk")
    return [
        Entry(
            b.issued_at,
            _("租金账单"),
            _("%(month)s 账单 %(reference)s：应缴 %(amount)s 元，已缴 %(paid)s 元（%(status)s）")
            % {
                "month": f"{b.month:%Y-%m}",
                "reference": b.reference,
                "amount": b.amount,
                "paid": b.paid,
                "status": b.get_status_display(),
            },
            _("系统"),
            reverse("rent-bill", args=[b.pk]),
        )
        for b in bills
    ]


def _files(contracts: Q, repairs: Q, cases: Q, inspections: Q) -> list[FileRef]:
    """The stored files of the subject: lease PDFs, repair, investigation and visit photos.

    Bank statements and meter imports are not filed here: each holds many tenants' rows.
    """
    files: list[FileRef] = []
    for c in Contract.objects.filter(contracts).select_related("draft", "signed"):
        files.append(
            FileRef(c.draft, _("待签合同 %(number)s") % {"number": c.number}, c.created_at)
        )
        if c.signed_id:
            files.append(
                FileRef(
                    c.signed,
                    _("已签合同 %(number)s") % {"number": c.number},
                    c.approved_at or c.created_at,
                )
            )
    for p in RepairPhoto.objects.filter(repairs).select_related("document", "repair"):
        label = _("%(stage)s %(number)s") % {
            "stage": p.get_stage_display(),
            "number": p.repair.number,
        }
        files.append(FileRef(p.document, label, p.added_at))
    through = CaseRecord.photos.through.objects.filter(cases).select_related(
        "document", "caserecord"
    )
    for row in through:
        label = _("调查照片（%(kind)s）") % {"kind": row.caserecord.get_kind_display()}
        files.append(FileRef(row.document, label, row.caserecord.created_at))
    visits = Inspection.photos.through.objects.filter(inspections).select_related(
        "document", "inspection"
    )
    for row in visits:
        label = _("巡查照片 %(day)s") % {"day": row.inspection.visited_on}
        files.append(FileRef(row.document, label, row.inspection.created_at))
    return files


def _finish(dossier: Dossier, since: date | None, until: date | None) -> Dossier:
    dossier.entries.sort(key=lambda e: e.at)
    dossier.files = sorted(
        (f for f in dossier.files if _in_window(f.at, since, until)), key=lambda f: f.at
    )
    return dossier


def unit_dossier(unit_id: int, since: date | None = None, until: date | None = None) -> Dossier:
    """一房一档 of one unit (no jurisdiction check: callers filter with units_in_scope)."""
    unit = Unit.objects.select_related("building__estate__district").get(pk=unit_id)
    estate = unit.building.estate
    dossier = Dossier(
        kind="unit",
        subject_id=unit.pk,
        title=f"{estate.name} {unit.building.number} {unit.number}",
        county_id=estate.district_id,
        facts=[
            (_("区县"), str(estate.district)),
            (_("地址"), estate.address),
            (_("户型"), str(unit.layout_label)),
            (_("建筑面积"), f"{unit.area} ㎡"),
            (_("月租金"), f"{unit.monthly_rent} 元"),
            (_("状态"), str(unit.get_status_display())),
        ],
    )
    dossier.entries = _events(Q(unit_id=unit.pk), since, until)
    dossier.entries += [
        e for e in _bills(Q(contract__unit_id=unit.pk)) if _in_window(e.at, since, until)
    ]
    dossier.files = _files(
        Q(unit_id=unit.pk),
        Q(repair__unit_id=unit.pk),
        Q(caserecord__case__unit_id=unit.pk),
        Q(inspection__unit_id=unit.pk),
    )
    return _finish(dossier, since, until)


def household_dossier(
    household_id: int, since: date | None = None, until: date | None = None
) -> Dossier:
    """一户一档 of one household, from its application on (its events share the key)."""
    household = Household.objects.select_related("county", "application").get(pk=household_id)
    application = household.application
    dossier = Dossier(
        kind="household",
        subject_id=household.pk,
        title=f"{household.public_key} {household.head_name}",
        county_id=household.county_id,
        facts=[
            (_("公示编号"), household.public_key),
            (_("申请编号"), application.number),
            (_("区县"), str(household.county)),
            (_("家庭人口"), str(household.size)),
            (_("保障状态"), str(household.get_status_display())),
            (_("审批通过"), f"{timezone.localdate(household.approved_at)}"),
        ],
    )
    entry = WaitlistEntry.objects.filter(household_id=household.pk).first()
    if entry is not None:
        place = _waitlist_place(entry)
        dossier.facts.append((_("轮候状态"), place))
    dossier.checks = _checks(household.pk)
    dossier.entries = _events(Q(household_id=household.pk), since, until)
    dossier.entries += [
        e
        for e in _draws(household.pk) + _bills(Q(contract__household_id=household.pk))
        if _in_window(e.at, since, until)
    ]
    dossier.files = _files(
        Q(household_id=household.pk),
        Q(repair__household_id=household.pk),
        Q(caserecord__case__household_id=household.pk),
        Q(inspection__contract__household_id=household.pk),
    )
    dossier.files += _credit_files(household.pk)
    return _finish(dossier, since, until)


def _checks(application_id: int) -> list[tuple[datetime, list[Evidence]]]:
    checks = DataCheck.objects.filter(application_id=application_id).order_by("-performed_at")
    return [
        (
            check.performed_at,
            [
                Evidence(
                    label=line.get("label", ""),
                    found=f"{line.get('found', '')} {line.get('unit', '')}".strip(),
                    rule=f"{line.get('operator', '')} {line.get('threshold', '')} "
                    f"{line.get('unit', '')}".strip(),
                    source=line.get("source", ""),
                    passed=bool(line.get("passed")),
                )
                for line in check.results
                if isinstance(line, dict)
            ],
        )
        for check in checks
    ]


def _credit_files(household_id: int) -> list[FileRef]:
    """Evidence of credit proposals about the household and of their repairs (kept in the
    proposals' evidence lists, two queries and one for the files)."""
    found: list[tuple[datetime, dict]] = []
    for p in Proposal.objects.filter(subject__household_id=household_id).only(
        "evidence", "created_at"
    ):
        found += [(p.created_at, f) for f in evidence.files_of(p.evidence)]
    repairs = CreditRepair.objects.filter(record__subject__household_id=household_id)
    for r in repairs.only("evidence", "created_at"):
        found += [(r.created_at, f) for f in evidence.files_of(r.evidence)]
    stored = Document.objects.in_bulk([f["file"] for _, f in found])
    return [
        FileRef(
            stored[f["file"]],
            _("信用%(label)s") % {"label": evidence.LABELS.get(f.get("step"), evidence.OTHER)},
            at,
        )
        for at, f in found
        if f["file"] in stored
    ]


def _waitlist_place(entry: WaitlistEntry) -> str:
    if entry.status != WaitlistEntry.Status.WAITING:
        return str(entry.get_status_display())
    ahead = (
        WaitlistEntry.objects.filter(county_id=entry.county_id, status=entry.status)
        .filter(
            Q(priority_rank__lt=entry.priority_rank)
            | Q(priority_rank=entry.priority_rank, queued_at__lt=entry.queued_at)
            | Q(
                priority_rank=entry.priority_rank,
                queued_at=entry.queued_at,
                household_id__lt=entry.household_id,
            )
        )
        .count()
    )
    return _("轮候中，第 %(place)s 位") % {"place": ahead + 1}


def _draws(household_id: int) -> list[Entry]:
    """Lottery rounds the household took part in: its place on the list and its turn."""
    turns = {
        s.round_id: s.rank
        for s in Slot.objects.filter(household_id=household_id).only("round", "rank")
    }
    entries = []
    for p in Participant.objects.filter(household_id=household_id).select_related("round"):
        round_ = p.round
        text = _("参加配租批次“%(name)s”，名单序号 %(position)s") % {
            "name": round_.name,
            "position": p.position,
        }
        if p.round_id in turns:
            text += _("，摇号选房顺序 %(rank)s") % {"rank": turns[p.round_id]}
        entries.append(
            Entry(
                round_.drawn_at or round_.announced_at or round_.created_at,
                _("参加摇号"),
                text,
                _("系统"),
                reverse("allocation-round", args=[round_.pk]),
            )
        )
    return entries


def _holders(sha256: str) -> list[tuple[QuerySet, str | None, str | None]]:
    """Every table that files a stored document under a unit or a household: the rows holding
    this file, and the paths to their unit and household (None where there is none)."""
    evidence_entry = [{"file": sha256}]
    return [
        (
            Contract.objects.filter(Q(draft_id=sha256) | Q(signed_id=sha256)),
            "unit_id",
            "household_id",
        ),
        (RepairPhoto.objects.filter(document_id=sha256), "repair__unit_id", "repair__household_id"),
        (
            CaseRecord.photos.through.objects.filter(document_id=sha256),
            "caserecord__case__unit_id",
            "caserecord__case__household_id",
        ),
        (
            Inspection.photos.through.objects.filter(document_id=sha256),
            "inspection__unit_id",
            "inspection__contract__household_id",
        ),
        (
            Proposal.objects.filter(evidence__contains=evidence_entry),
            None,
            "subject__household_id",
        ),
        (
            CreditRepair.objects.filter(evidence__contains=evidence_entry),
            None,
            "record__subject__household_id",
        ),
    ]


def document_owners(sha256: str) -> tuple[set[int], set[int]]:
    """The units and households a stored file belongs to (the same bytes may serve several),
    so a view can ask whether the reader may open any of them."""
    units: set[int] = set()
    households: set[int] = set()
    for rows, unit, household in _holders(sha256):
        paths = [p for p in (unit, household) if p]
        for values in rows.values(*paths):
            if unit and values[unit]:
                units.add(values[unit])
            if household and values[household]:
                households.add(values[household])
    return units, households


def may_open(user: AbstractBaseUser, sha256: str) -> bool:
    """Whether a staff member may read a stored file: it belongs to a unit or a household of
    their jurisdiction (two EXISTS queries after the owners are known)."""
    units, households = document_owners(sha256)
    return (bool(units) and units_in_scope(user).filter(pk__in=units).exists()) or (
        bool(households) and households_in_scope(user).filter(pk__in=households).exists()
    )
