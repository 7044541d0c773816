"""The resident's two pages that span the whole lifecycle, composed here at the top of the
layering: /my/ (cases, household, waitlist place, turn to choose, offers) and the public
/status/ lookup (a case by number, a household's waitlist place by its public key)."""

import re

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from allocation import selectors as allocation
from allocation.models import Offer, Round, Slot, WaitlistEntry
from allocation.services import AllocationError, offers
from allocation.services.waitlist import policy_for
from archive import documents
from credit import evidence as credit_evidence
from credit import selectors as credit
from credit import services as credit_services
from credit.models import Proposal, Record
from credit.services import CreditError
from geo.map_base import base_config
from housing import inbox
from housing.models import Household
from housing.views import applicant_required, applications_of, lookup_application
from tenancy.models import Contract
from tenancy.selectors import rent_accounts

PUBLIC_KEY = re.compile(r"^[0-9A-F]{8}$")


def household_panel(household: Household) -> dict:
    """What a household should know about its place: position, waiting time, its turn, offers."""
    entry = WaitlistEntry.objects.filter(household=household).first()
    policy = policy_for(household.county)
    now = timezone.now()
    return {
        "household": household,
        "entry": entry,
        "position": allocation.position_of(household),
        "waiting_months": allocation.months_between(household.approved_at, now),
        "overdue": allocation.is_overdue(household, policy, now),
        "limit_months": policy.waiting_limit_months,
        "slot": allocation.current_slot(household),
        "offer": allocation.pending_offer(household),
        "accepted": Offer.objects.filter(household=household, status=Offer.Status.ACCEPTED)
        .select_related("unit__building__estate")
        .first(),
    }


def _own_id_numbers(applicant) -> list[str]:
    """The people an account speaks for: its applications' applicants and households' heads."""
    numbers = [a.id_number for a in applicant.applications.all()]
    numbers += [h.head_id_number for h in Household.objects.filter(applicant=applicant)]
    return sorted(set(numbers))


@applicant_required
def my_cases(request: HttpRequest) -> HttpResponse:
    applications = applications_of(request.applicant)
    households = Household.objects.filter(applicant=request.applicant).select_related("county")
    own = _own_id_numbers(request.applicant)
    return render(
        request,
        "housing/my_cases.html",
        {
            "applications": applications,
            "households": [household_panel(h) for h in households],
            "claims": request.applicant.claims.order_by("-created_at"),
            "unread": inbox.unread_count(request.applicant),
            "credit_proposals": [
                (p, credit.evidence_files(p)) for p in credit.open_proposals_of(own)
            ],
            "credit_records": list(credit.records_of(own, timezone.localdate())),
            "credit_accept": credit_evidence.ACCEPT,
            "credit_limits": credit_evidence.limits_text(),
            "rent_accounts": rent_accounts(request.applicant, timezone.localdate()),
            "contracts": Contract.objects.filter(household__applicant=request.applicant)
            .exclude(status=Contract.Status.CANCELLED)
            .order_by("-created_at"),
            # A draft is continued, not doubled: "新的申请" only when every case is closed.
            "has_open_case": any(a.stage != "rejected" for a in applications),
        },
    )


def status(request: HttpRequest) -> HttpResponse:
    """Public: a case by number + last six ID digits, or a waitlist place by public key (the
    key is already in the public lists, so its place tells nothing new)."""
    application, error, number = lookup_application(request)
    key = request.GET.get("key", "").strip().upper()
    place, key_error = None, None
    if key:
        household = (
            Household.objects.filter(public_key=key).select_related("county").first()
            if PUBLIC_KEY.match(key)
            else None
        )
        if household is None:
            key_error = _("没有查到这个公示编号的保障家庭。")
        else:
            place = household_panel(household)
    return render(
        request,
        "housing/status.html",
        {
            "application": application,
            "error": error,
            "number": number,
            "key": key,
            "place": place,
            "key_error": key_error,
        },
    )


# --- choosing a unit (选房) and answering the offer ------------------------------------------


def _my_slot(request: HttpRequest, round_id: int) -> Slot:
    """The signed-in applicant's household's turn in this round; 404 for anyone else's."""
    return get_object_or_404(
        Slot.objects.select_related("round__county", "household"),
        round_id=round_id,
        household__applicant=request.applicant,
    )


def _map_points(units) -> list[dict]:
    """One point per building with its choosable units (WGS84 on every base map)."""
    buildings: dict[int, dict] = {}
    for unit in units:
        building = unit.building
        point = building.position or building.estate.location
        lon, lat = point.x, point.y
        entry = buildings.setdefault(
            building.pk,
            {
                "label": f"{building.estate.name} {building.number}",
                "lon": round(lon, 6),
                "lat": round(lat, 6),
                "units": [],
            },
        )
        entry["units"].append(
            {
                "id": unit.pk,
                "text": _("%(number)s · %(floor)s层 · %(layout)s · %(area)s㎡ · 月租 %(rent)s 元")
                % {
                    "number": unit.number,
                    "floor": unit.floor,
                    "layout": unit.layout_label,
                    "area": unit.area,
                    "rent": unit.monthly_rent,
                },
            }
        )
    return list(buildings.values())


@applicant_required
def my_round(request: HttpRequest, round_id: int) -> HttpResponse:
    """Phone-first: the household's turn, the round's units it may choose on a map and in a
    list (the list works without JavaScript), and its pending offer to accept or refuse."""
    slot = _my_slot(request, round_id)
    round_ = slot.round
    policy = policy_for(round_.county)
    now = timezone.now()
    can_choose = (
        round_.status == Round.Status.CHOOSING
        and slot.status == Slot.Status.WAITING
        and slot.opens_at <= now
    )
    units = (
        list(allocation.choosable_units(round_, slot.household, policy))
        if round_.status == Round.Status.CHOOSING and slot.status == Slot.Status.WAITING
        else []
    )
    low, high = policy.rooms_for(slot.household.size)
    return render(
        request,
        "allocation/my_round.html",
        {
            "slot": slot,
            "round": round_,
            "units": units,
            "can_choose": can_choose,
            "rooms": (low, high),
            "offer": Offer.objects.filter(household=slot.household, round=round_)
            .select_related("unit__building__estate")
            .order_by("-created_at")
            .first(),
            "points": _map_points(units),
            "basemap": base_config() if units else None,
        },
    )


@applicant_required
@require_POST
def my_choose(request: HttpRequest, round_id: int) -> HttpResponse:
    slot = _my_slot(request, round_id)
    try:
        unit_id = int(request.POST.get("unit", ""))
        offers.choose(
            round_id, unit_id, household_id=slot.household_id, applicant=request.applicant
        )
    except ValueError:
        messages.error(request, _("请选择一套房源。"))
    except AllocationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已选定房源，请在确认期限内确认。"))
    return redirect("my-round", round_id=round_id)


def _my_offer(request: HttpRequest, offer_id: int) -> Offer:
    return get_object_or_404(Offer, pk=offer_id, household__applicant=request.applicant)


@applicant_required
@require_POST
def my_offer_accept(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = _my_offer(request, offer_id)
    try:
        offers.accept(offer.pk, applicant=request.applicant)
    except AllocationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已确认配租，请等待签订租赁合同的通知。"))
    return redirect("my-round", round_id=offer.round_id)


@applicant_required
@require_POST
def my_offer_refuse(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = _my_offer(request, offer_id)
    try:
        offers.refuse(offer.pk, reason=request.POST.get("reason", ""), applicant=request.applicant)
    except AllocationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已放弃该房源，本户继续轮候。"))
    return redirect("my-round", round_id=offer.round_id)


# --- 信用: the subject's own side (objection, repair) ------------------------------------------


@applicant_required
@require_POST
def my_credit_objection(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """The person objects online, within the period, to a proposed record about them."""
    proposal = get_object_or_404(Proposal.objects.select_related("subject"), pk=proposal_id)
    if not credit.is_about(proposal, _own_id_numbers(request.applicant)):
        raise Http404
    try:
        files = credit_evidence.read_uploads(
            request.FILES.getlist("files"), label=credit_evidence.LABELS["objection"]
        )
        credit_services.object_to(proposal.pk, text=request.POST.get("text", ""), files=files)
    except (CreditError, credit_evidence.EvidenceRejected) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已提交异议，认定单位核实后会答复您。"))
    return redirect("my-cases")


@applicant_required
@require_POST
def my_credit_repair(request: HttpRequest, record_id: int) -> HttpResponse:
    """Having corrected the conduct, the person asks online for the record to be repaired."""
    record = get_object_or_404(Record.objects.select_related("subject"), pk=record_id)
    if not credit.is_about(record, _own_id_numbers(request.applicant)):
        raise Http404
    try:
        files = credit_evidence.read_uploads(
            request.FILES.getlist("files"), label=credit_evidence.LABELS["repair"]
        )
        credit_services.ask_repair(record.pk, correction=request.POST.get("text", ""), files=files)
    except (CreditError, credit_evidence.EvidenceRejected) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已提交信用修复申请，认定单位审核后会告知您。"))
    return redirect("my-cases")


@applicant_required
def my_credit_file(request: HttpRequest, proposal_id: int, sha256: str) -> HttpResponse:
    """A file of a proposal about the person (theirs or the department's evidence), logged."""
    proposal = get_object_or_404(Proposal.objects.select_related("subject"), pk=proposal_id)
    if not credit.is_about(proposal, _own_id_numbers(request.applicant)):
        raise Http404
    document = credit.evidence_document(proposal, sha256)
    if document is None:
        raise Http404
    return documents.serve(request, document, applicant_id=request.applicant.pk)
