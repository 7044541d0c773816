"""配租管理: waitlists in the user's area, allocation rounds from draft to results, and the
counter at the choosing board.

Every change goes through allocation.services; a county outside the user's jurisdiction is a
404, a round the user may see but not run is a 403 on POST.
"""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import FirstValue
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from allocation import rfc3797, selectors
from allocation.models import (
    AllocationPolicy,
    Offer,
    Round,
    RoundUnit,
    Slot,
    WaitlistEntry,
    WaitlistState,
)
from allocation.permissions import may_allocate
from allocation.services import AllocationError, offers, rounds
from allocation.services.waitlist import policy_for
from archive.models import Event
from archive.services import record_access
from backoffice.allocation_forms import AnnounceForm, DrawForm, OpenForm, RefuseForm, RoundForm
from backoffice.models import StaffProfile
from backoffice.views import staff_required
from geo.jurisdiction import profile_of
from geo.models import Estate, Region, Unit

PAGE = 30
Role = StaffProfile.Role
# The household field that bounds what a street or community worker sees.
AREA_FIELD = {Role.STREET: "street", Role.COMMUNITY: "community"}


# --- jurisdiction ----------------------------------------------------------------------------


def _counties(user, *, departments_only: bool = False) -> list[Region]:
    """The counties whose waitlists (or, for departments only, rounds) the user may see."""
    districts = Region.objects.filter(level=Region.Level.DISTRICT).defer("boundary")
    if user.is_superuser:
        return list(districts.order_by("adcode"))
    profile = profile_of(user)
    if profile is None or profile.region_id is None:
        return []
    where = {
        Role.CITY: Q(parent_id=profile.region_id),
        Role.DISTRICT: Q(pk=profile.region_id),
    }
    if not departments_only:
        where[Role.STREET] = Q(children=profile.region_id)
        where[Role.COMMUNITY] = Q(children__children=profile.region_id)
    if profile.role not in where:
        return []
    return list(districts.filter(where[profile.role]).order_by("adcode"))


def _runs_rounds(user) -> bool:
    """Rounds are the housing departments' (city and county) work."""
    profile = profile_of(user)
    return user.is_superuser or (profile is not None and profile.role in (Role.CITY, Role.DISTRICT))


def _area(user) -> tuple[str, int] | None:
    """Streets and communities see only their own households: (household field, region id)."""
    profile = None if user.is_superuser else profile_of(user)
    if profile is not None and profile.role in AREA_FIELD:
        return AREA_FIELD[profile.role], profile.region_id
    return None


def _within_area(entries: QuerySet, area: tuple[str, int] | None) -> QuerySet:
    """Narrow a positioned waitlist to an area without renumbering it: the condition is put on
    a window expression, which Django applies outside the window (QUALIFY), so each household
    keeps its county-wide position."""
    if area is None:
        return entries
    field, region_id = area
    return entries.annotate(
        area=Window(FirstValue(f"household__{field}_id"), partition_by=[F("pk")])
    ).filter(area=region_id)


def _pick_county(request: HttpRequest, counties: list[Region]) -> Region:
    adcode = request.GET.get("county")
    if not adcode:
        return counties[0]
    for county in counties:
        if county.adcode == adcode:
            return county
    raise Http404


def round_counties(user) -> list[Region]:
    """The counties whose rounds the user sees and runs: housing departments only."""
    return _counties(user, departments_only=True)


def round_needs(now) -> dict[str, Q]:
    """Rounds waiting for their next step, by step: the start page counts them and the round
    list filters by them (?needs=), with the same conditions."""
    open_slot = Slot.objects.filter(
        round=OuterRef("pk"), status=Slot.Status.WAITING, closes_at__gt=now
    )
    pending = Offer.objects.filter(round=OuterRef("pk"), status=Offer.Status.PENDING)
    return {
        "announce": Q(status=Round.Status.DRAFT),
        "draw": Q(
            status=Round.Status.ANNOUNCED,
            method=AllocationPolicy.RoundMethod.LOTTERY,
            lottery_date__lte=timezone.localdate(now),
        ),
        "open": Q(status=Round.Status.DRAWN)
        | Q(status=Round.Status.ANNOUNCED, method=AllocationPolicy.RoundMethod.WAITLIST),
        "close": Q(status=Round.Status.CHOOSING) & ~Exists(open_slot) & ~Exists(pending),
    }


def _visible_rounds(user) -> QuerySet[Round]:
    counties = _counties(user, departments_only=True)
    if not counties:
        raise Http404
    return Round.objects.filter(county__in=counties)


def _round_or_404(user, round_id: int) -> Round:
    return get_object_or_404(
        _visible_rounds(user).select_related("county", "created_by").defer("county__boundary"),
        pk=round_id,
    )


def _acting_on(request: HttpRequest, round_id: int) -> Round:
    round_ = _round_or_404(request.user, round_id)
    if not may_allocate(request.user, round_.county):
        raise PermissionDenied(_("只有本县（区）住房保障部门可以办理配租。"))
    return round_


# --- waitlist --------------------------------------------------------------------------------


@staff_required
def waitlist(request: HttpRequest) -> HttpResponse:
    """轮候名单 of one county at a time, in order, with who waits too long."""
    counties = _counties(request.user)
    if not counties:
        raise PermissionDenied(_("您的岗位不管理轮候名单。"))
    county = _pick_county(request, counties)
    area = _area(request.user)
    policy = policy_for(county)
    page = Paginator(_within_area(selectors.waiting_entries(county), area), PAGE).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    rows = [
        {
            "entry": e,
            "household": e.household,
            "months": selectors.months_between(e.household.approved_at, now),
            "overdue": selectors.is_overdue(e.household, policy, now),
        }
        for e in page.object_list
    ]
    suspended = WaitlistEntry.objects.filter(
        county=county, status=WaitlistEntry.Status.SUSPENDED
    ).select_related("household")
    if area is not None:
        suspended = suspended.filter(**{f"household__{area[0]}_id": area[1]})
    state = WaitlistState.objects.filter(county=county).first()
    record_access(request, "waitlist", county.pk)
    return render(
        request,
        "staff/allocation/waitlist.html",
        {
            "counties": counties,
            "county": county,
            "policy": policy,
            "page": page,
            "rows": rows,
            "page_query": f"county={county.adcode}",
            "suspended": suspended.order_by("suspended_until", "household_id"),
            "state": state,
            "notice_url": selectors.notice_url(state.outbox_id) if state else None,
            "area_only": area is not None,
            "sees_rounds": _runs_rounds(request.user),
        },
    )


# --- rounds ----------------------------------------------------------------------------------


# What each ?needs= filter of the round list shows, as its heading says it.
NEEDS_LABELS = [
    ("announce", _("待发布公告的批次草稿")),
    ("draw", _("已到开奖日期、待摇号的批次")),
    ("open", _("待开始选房的批次")),
    ("close", _("选房时段已全部结束、待结束的批次")),
]


@staff_required
def round_list(request: HttpRequest) -> HttpResponse:
    counties = _counties(request.user, departments_only=True)
    if not counties:
        raise PermissionDenied(_("配租批次由县（区）和市住房保障部门办理。"))
    listing = (
        Round.objects.filter(county__in=counties)
        .select_related("county")
        .defer("county__boundary")
        .annotate(
            unit_count=Count("round_units", distinct=True),
            participant_count=Count("participants", distinct=True),
        )
        .order_by("-created_at", "-pk")
    )
    status = request.GET.get("status", "")
    if status in Round.Status.values:
        listing = listing.filter(status=status)
    else:
        status = ""
    needs = request.GET.get("needs", "")
    conditions = round_needs(timezone.now())
    if needs in conditions:
        listing = listing.filter(conditions[needs])
    else:
        needs = ""
    query = "&".join(f"{k}={v}" for k, v in (("status", status), ("needs", needs)) if v)
    page = Paginator(listing, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/allocation/round_list.html",
        {
            "page": page,
            "page_query": query,
            "status": status,
            "needs": needs,
            "needs_label": dict(NEEDS_LABELS).get(needs, ""),
            "statuses": Round.Status.choices,
            "counties": counties,
            "allocating": [c for c in counties if may_allocate(request.user, c)],
        },
    )


@staff_required
def round_new(request: HttpRequest) -> HttpResponse:
    """A draft round: the county's vacant units, whom to invite, and how to order them."""
    counties = [
        c for c in _counties(request.user, departments_only=True) if may_allocate(request.user, c)
    ]
    if not counties:
        raise PermissionDenied(_("配租批次由县（区）和市住房保障部门办理。"))
    if not request.GET.get("county") and len(counties) > 1:
        return render(request, "staff/allocation/round_county.html", {"counties": counties})
    county = _pick_county(request, counties)
    policy = policy_for(county)
    initial = {
        "name": _("%(county)s%(year)s年公租房配租")
        % {"county": county.name, "year": timezone.localdate().year},
        "method": policy.round_method,
        "invitation": Round.Invitation.HEAD,
    }
    form = RoundForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            round_ = rounds.create_round(
                county,
                name=data["name"],
                unit_ids=data["units"],
                invitation=data["invitation"],
                invite_count=data["invite_count"],
                priority_group=data["priority_group"],
                method=data["method"],
                actor=request.user,
            )
        except AllocationError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("已新建配租批次草稿“%(name)s”。") % {"name": round_.name})
            return redirect("allocation-round", round_id=round_.pk)
    vacant = Unit.objects.filter(building__estate__district=county, status=Unit.Status.VACANT)
    estates = (
        Estate.objects.filter(pk__in=vacant.values("building__estate"))
        .only("pk", "name")
        .annotate(vacant=Count("buildings__units", filter=Q(buildings__units__status="vacant")))
        .order_by("name")
    )
    estate = request.GET.get("estate", "")
    if estate.isdigit():
        vacant = vacant.filter(building__estate_id=int(estate))
    else:
        estate = ""
    taken = RoundUnit.objects.filter(unit=OuterRef("pk")).exclude(round__status=Round.Status.CLOSED)
    units = (
        vacant.select_related("building__estate")
        .only(
            "pk",
            "number",
            "floor",
            "rooms",
            "halls",
            "baths",
            "area",
            "monthly_rent",
            "building__number",
            "building__estate__name",
        )
        .annotate(in_round=Exists(taken))
        .order_by(
            "building__estate__name", "building__estate_id", "building__number", "floor", "number"
        )
    )
    chosen = {str(v) for v in form["units"].value() or []} if form.is_bound else set()
    return render(
        request,
        "staff/allocation/round_new.html",
        {
            "form": form,
            "county": county,
            "counties": counties,
            "policy": policy,
            "estates": estates,
            "estate": estate,
            "groups": _unit_groups(units, chosen, opened=bool(estate)),
            "chosen": chosen,
        },
    )


def _unit_groups(units, chosen: set[str], *, opened: bool) -> list[dict]:
    """Units by estate, then building; an estate is shown open when filtered to, or when it
    holds a unit already ticked (the form came back with an error)."""
    groups: list[dict] = []
    for unit in units:
        estate, building = unit.building.estate, unit.building
        if not groups or groups[-1]["estate"].pk != estate.pk:
            groups.append({"estate": estate, "buildings": [], "free": 0, "open": opened})
        group = groups[-1]
        if not group["buildings"] or group["buildings"][-1]["building"].pk != building.pk:
            group["buildings"].append({"building": building, "units": []})
        group["buildings"][-1]["units"].append(unit)
        group["free"] += not unit.in_round
        group["open"] |= str(unit.pk) in chosen
    return groups


def _board_rows(round_: Round, units: list[Unit], policy: AllocationPolicy) -> list[dict]:
    """selectors.board with, for each household whose turn has come, the units it may take
    (the round's units are already loaded: no query per household)."""
    now = timezone.now()
    vacant = [u for u in units if u.status == Unit.Status.VACANT]
    rows = selectors.board(round_)
    for row in rows:
        slot, offer = row["slot"], row["offer"]
        row["pending"] = offer is not None and offer.status == Offer.Status.PENDING
        row["current"] = slot.opens_at <= now < slot.closes_at
        row["may_choose"] = (
            slot.status == Slot.Status.WAITING and slot.opens_at <= now and not row["pending"]
        )
        row["units"] = (
            [u for u in vacant if selectors.fits(policy, slot.household.size, u.rooms)]
            if row["may_choose"]
            else []
        )
    return rows


STEPS = [
    (Round.Status.DRAFT, _("草稿")),
    (Round.Status.ANNOUNCED, _("已公告")),
    (Round.Status.DRAWN, _("已摇号")),
    (Round.Status.CHOOSING, _("选房中")),
    (Round.Status.CLOSED, _("已结束")),
]


def _steps(round_: Round) -> list[dict]:
    steps = [s for s in STEPS if round_.method == "lottery" or s[0] != Round.Status.DRAWN]
    reached = [code for code, _label in steps].index(round_.status)
    return [
        {"label": label, "done": i < reached, "current": i == reached}
        for i, (_code, label) in enumerate(steps)
    ]


def _round_page(request: HttpRequest, round_id: int, **forms_) -> HttpResponse:
    round_ = _round_or_404(request.user, round_id)
    policy = policy_for(round_.county)
    units = list(selectors.round_units(round_))
    board = (
        _board_rows(round_, units, policy)
        if round_.status in (Round.Status.CHOOSING, Round.Status.CLOSED)
        else None
    )
    can_act = may_allocate(request.user, round_.county)
    context = {
        "round": round_,
        "policy": policy,
        "can_act": can_act,
        "board": board,
        "now": timezone.now(),
    }
    if request.GET.get("partial") == "board" and board is not None:
        return render(request, "staff/allocation/_board.html", context)
    participants = list(selectors.participants(round_))
    by_key = {p.public_key: p for p in participants}
    lottery = round_.method == "lottery"
    status = round_.status
    if status == Round.Status.DRAFT and can_act:
        forms_.setdefault(
            "announce_form",
            AnnounceForm(
                initial={"lottery_date": timezone.localdate() + timedelta(days=3)}
                if lottery
                else None
            ),
        )
    if status == Round.Status.ANNOUNCED and lottery and can_act:
        forms_.setdefault("draw_form", DrawForm())
    ready = Round.Status.DRAWN if lottery else Round.Status.ANNOUNCED
    if status == ready and can_act:
        forms_.setdefault("open_form", OpenForm())
    record_access(request, "round", round_.pk)
    context.update(forms_)
    context.update(
        {
            "steps": _steps(round_),
            "units": units,
            "participants": participants,
            "invited": rounds.invited(round_) if status == Round.Status.DRAFT else None,
            "order": [
                {"rank": i, "key": key, "participant": by_key.get(key)}
                for i, key in enumerate(round_.draw_order or [], start=1)
            ],
            "key_string": rfc3797.key_string(round_.seeds) if round_.seeds else "",
            "notices": [
                (label, selectors.notice_url(outbox_id))
                for label, outbox_id in [
                    (_("配租公告"), round_.announce_outbox_id),
                    (_("摇号结果"), round_.draw_outbox_id),
                    (_("配租结果"), round_.result_outbox_id),
                ]
                if outbox_id is not None
            ],
            "events": Event.objects.filter(after__round=round_.pk)
            .select_related("actor")
            .order_by("-at", "-id")[:200],
            "today": timezone.localdate(),
        },
    )
    return render(request, "staff/allocation/round_detail.html", context)


@staff_required
def round_detail(request: HttpRequest, round_id: int) -> HttpResponse:
    return _round_page(request, round_id)


def _back(round_: Round, anchor: str = "") -> HttpResponse:
    return redirect(reverse("allocation-round", args=[round_.pk]) + anchor)


@staff_required
@require_POST
def round_announce(request: HttpRequest, round_id: int) -> HttpResponse:
    round_ = _acting_on(request, round_id)
    form = AnnounceForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data if round_.method == "lottery" else {}
        try:
            rounds.announce(round_.pk, actor=request.user, **data)
        except AllocationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已公告：参加名单和随机数来源已确定并提交公开。"))
            return _back(round_)
    return _round_page(request, round_.pk, announce_form=form)


@staff_required
@require_POST
def round_draw(request: HttpRequest, round_id: int) -> HttpResponse:
    round_ = _acting_on(request, round_id)
    form = DrawForm(request.POST)
    if form.is_valid():
        try:
            rounds.draw(round_.pk, seeds_text=form.cleaned_data["seeds"], actor=request.user)
        except AllocationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("摇号完成：选房顺序已确定并提交公开。"))
            return _back(round_, "#order")
    return _round_page(request, round_.pk, draw_form=form)


@staff_required
@require_POST
def round_open(request: HttpRequest, round_id: int) -> HttpResponse:
    round_ = _acting_on(request, round_id)
    form = OpenForm(request.POST)
    if form.is_valid():
        try:
            rounds.open_choosing(
                round_.pk, starts_at=form.cleaned_data["starts_at"], actor=request.user
            )
        except AllocationError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已开始选房。"))
            return _back(round_, "#board")
    return _round_page(request, round_.pk, open_form=form)


@staff_required
@require_POST
def round_close(request: HttpRequest, round_id: int) -> HttpResponse:
    round_ = _acting_on(request, round_id)
    try:
        rounds.close_round(round_.pk, actor=request.user)
    except AllocationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("批次已结束，配租结果已提交公开。"))
    return _back(round_)


@staff_required
@require_POST
def round_delete(request: HttpRequest, round_id: int) -> HttpResponse:
    round_ = _acting_on(request, round_id)
    try:
        rounds.delete_draft(round_.pk, actor=request.user)
    except AllocationError as exc:
        messages.error(request, str(exc))
        return _back(round_)
    messages.success(request, _("已删除批次草稿“%(name)s”。") % {"name": round_.name})
    return redirect("allocation-rounds")


def _int(value) -> int | None:
    return int(value) if isinstance(value, str) and value.isdigit() else None


@staff_required
@require_POST
def round_choose(request: HttpRequest, round_id: int) -> HttpResponse:
    """At the counter: the clerk records the unit a household chose in its turn."""
    round_ = _acting_on(request, round_id)
    household_id, unit_id = _int(request.POST.get("household")), _int(request.POST.get("unit"))
    if household_id is None or unit_id is None:
        messages.error(request, _("请为该户选择一套房源。"))
        return _back(round_, "#board")
    if not Slot.objects.filter(round=round_, household_id=household_id).exists():
        messages.error(request, _("本户不在该批次的选房名单中。"))
        return _back(round_, "#board")
    try:
        offer = offers.choose(round_.pk, unit_id, household_id=household_id, actor=request.user)
    except AllocationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("已为 %(key)s 选定 %(unit)s，待确认。")
            % {"key": offer.household.public_key, "unit": offer.unit},
        )
    return _back(round_, "#board")


def _offer_of(round_: Round, offer_id: int) -> Offer:
    return get_object_or_404(Offer.objects.filter(round=round_), pk=offer_id)


@staff_required
@require_POST
def offer_accept(request: HttpRequest, round_id: int, offer_id: int) -> HttpResponse:
    round_ = _acting_on(request, round_id)
    offer = _offer_of(round_, offer_id)
    try:
        offers.accept(offer.pk, actor=request.user)
    except AllocationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已确认配租。"))
    return _back(round_, "#board")


@staff_required
@require_POST
def offer_refuse(request: HttpRequest, round_id: int, offer_id: int) -> HttpResponse:
    round_ = _acting_on(request, round_id)
    offer = _offer_of(round_, offer_id)
    form = RefuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return _back(round_, "#board")
    data = form.cleaned_data
    try:
        offers.refuse(
            offer.pk,
            reason=data["reason"],
            justified=data["justified"],
            actor=request.user,
        )
    except AllocationError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("已记录放弃，房源恢复可选。")
            if data["justified"]
            else _("已记录放弃，房源恢复可选；本次计入拒绝次数。"),
        )
    return _back(round_, "#board")
