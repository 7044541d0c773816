"""Every back-office URL, for every role: nothing answers 500, an object outside the role's
jurisdiction does not exist for it (404), visitors are sent to sign in, non-staff get 403.

The patterns are read from the URLconf, so no page escapes: a new staff URL fails
`test_every_staff_url_is_mapped` until FILL says how to fill its parameters.
"""

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qsl, urlencode

import pytest
from django.db.models import Count
from django.urls import URLResolver, get_resolver, reverse
from PIL import Image

from allocation.models import Offer, Round
from allocation.services import rounds
from credit.models import Conduct, Proposal, Record
from disclosure.models import Page, Publication
from exchange.idcard import make_id_number
from geo.models import Estate, Region, Unit
from housing import services as housing
from housing.models import Applicant, Application, Household, IdentityClaim
from tenancy.models import (
    AnnualReview,
    Bill,
    Contract,
    Exit,
    RecheckHit,
    Renewal,
    Repair,
    RepairPhoto,
    ViolationCase,
)
from tenancy.services import complaints, violations
from tests.personas import make_staff

pytestmark = pytest.mark.django_db

ROLES = ["city", "district", "street", "community", "operator", "outsider", "anonymous"]
STAFF = {"city", "district", "street", "community", "operator"}
MISSING = 2_147_483_647  # the largest id PostgreSQL's integer holds: never used
LOGIN = "/staff/login/"
# Query strings a hand-edited or hostile link may carry: a clear answer, never a 500.
HOSTILE = [
    "estate=abc",
    "estate=99999999999999999999",
    "county=abc",
    "county=341621",
    "district=abc",
    "building=abc",
    "page=abc",
    "page=99999",
    "page=-1",
    "status=%3Cbad%3E",
    "published=abc",
    "rooms=abc",
    "show=abc",
    "partial=board",
    "format=abc",
    "crs=abc",
    "q=%00",
]
# The review step at which streets and communities see a case (DEFAULT_CHAIN): they open the
# cases at their step, or that they handled; departments see every case in their area.
STEP_OF = {"community": "accept", "street": "first_review"}


@dataclass(frozen=True)
class Spec:
    """How to fill one URL: its parameters for a role, and what a GET must answer."""

    fill: Callable | None = None  # (world, role) -> [(where, kwargs)]: inside/outside/missing
    post_only: bool = False
    public: bool = False  # the sign-in page itself
    query: Callable | None = None  # (world, role) -> query string sent with every GET
    county_param: bool = False  # ?county=<adcode> picks the county shown


def by(kind: str, param: str) -> Callable:
    def fill(world: "World", role: str) -> list[tuple[str, dict]]:
        return [(where, {param: obj.pk}) for where, obj in world.picks(kind, role)] + [
            ("missing", {param: MISSING})
        ]

    return fill


def by_offer(world: "World", role: str) -> list[tuple[str, dict]]:
    picked = [
        (w, {"round_id": o.round_id, "offer_id": o.pk}) for w, o in world.picks("offer", role)
    ]
    return [*picked, ("missing", {"round_id": MISSING, "offer_id": MISSING})]


def modules(world: "World", role: str) -> list[tuple[str, dict]]:
    # Every module is built now: an unknown (or built) slug is a 404.
    return [("missing", {"slug": "nope"})]


def dashboards(world: "World", role: str) -> list[tuple[str, dict]]:
    from insights.statistics import DASHBOARDS

    return [("inside", {"slug": slug}) for slug in DASHBOARDS] + [("missing", {"slug": "nope"})]


def staff_account(world: "World", role: str) -> list[tuple[str, dict]]:
    """系统管理: a peer of the role's own account is inside (an administrator edits it, anyone
    else is refused); a superuser's account and, below the city, another county's are not."""
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    role = role if role in STAFF else "district"
    me = world.cast.users[role].staff_profile
    peer = users.filter(username=f"peer-{role}").first() or make_staff(
        f"peer-{role}", me.role, region=me.region, operator=me.operator
    )
    root = users.filter(username="root-fill").first() or users.create_superuser(
        "root-fill", password="root-fill-pw-9"
    )
    picks = [("inside", {"user_id": peer.pk}), ("outside", {"user_id": root.pk})]
    if role != "city":
        picks.append(("outside", {"user_id": users.get(username="u-woyang").pk}))
    return [*picks, ("missing", {"user_id": MISSING})]


def conduct(world: "World", role: str) -> list[tuple[str, dict]]:
    """The credit catalogue is city-wide: a conduct is inside for the city's administrator
    (others are refused the page: 403)."""
    first = Conduct.objects.order_by("pk").first()
    return [("inside", {"conduct_id": first.pk}), ("missing", {"conduct_id": MISSING})]


def message_template(world: "World", role: str) -> list[tuple[str, dict]]:
    """消息模板 are the city's: one shipped code (403 below the city) and one unknown."""
    return [("inside", {"code": "contract.signed"}), ("missing", {"code": "no.such-code"})]


def staff_account_act(world: "World", role: str) -> list[tuple[str, dict]]:
    return [(where, kw | {"action": "disable"}) for where, kw in staff_account(world, role)]


def acting(kind: str, param: str, action: str) -> Callable:
    """A POST-only action on an object: the object's id and the action's name."""
    plain = by(kind, param)

    def fill(world: "World", role: str) -> list[tuple[str, dict]]:
        return [(where, kwargs | {"action": action}) for where, kwargs in plain(world, role)]

    return fill


def case_photo(world: "World", role: str) -> list[tuple[str, dict]]:
    picked = [
        (where, {"case_id": case.pk, "sha256": case.records.first().photos.first().sha256})
        for where, case in world.picks("case", role)
    ]
    return [*picked, ("missing", {"case_id": MISSING, "sha256": "0" * 64})]


def repair_photo(world: "World", role: str) -> list[tuple[str, dict]]:
    picked = [
        (where, {"repair_id": photo.repair_id, "photo_id": photo.pk})
        for where, photo in world.picks("repair_photo", role)
    ]
    return [*picked, ("missing", {"repair_id": MISSING, "photo_id": MISSING})]


def stored_file(world: "World", role: str) -> list[tuple[str, dict]]:
    """A repair photo kept in the archive: readable through its unit or its household."""
    picked = [(w, {"sha256": p.document_id}) for w, p in world.picks("stored_file", role)]
    return [*picked, ("missing", {"sha256": "0" * 64})]


def credit_file(world: "World", role: str) -> list[tuple[str, dict]]:
    picked = [
        (where, {"proposal_id": p.pk, "sha256": next(e["file"] for e in p.evidence if "file" in e)})
        for where, p in world.picks("proposal", role)
    ]
    return [*picked, ("missing", {"proposal_id": MISSING, "sha256": "0" * 64})]


def own_batch(world: "World", role: str) -> list[tuple[str, dict]]:
    """A finished batch download (a ZIP on disk) is its requester's alone: the role's own is
    inside, another staff member's — even the city's — is outside."""
    import zipfile
    from datetime import timedelta
    from pathlib import Path

    from django.conf import settings
    from django.utils import timezone

    from insights.models import BatchDownload

    owner = world.cast.users[role if role in STAFF else "district"]
    other = world.cast.users["district" if owner == world.cast.users["city"] else "city"]
    made = []
    for user in (owner, other):
        path = Path(settings.MEDIA_ROOT) / "batches" / f"fill-{user.pk}.zip"
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("manifest.sha256", "")
        made.append(
            BatchDownload.objects.create(
                requested_by=user,
                status=BatchDownload.Status.DONE,
                zip_path=str(path.relative_to(settings.MEDIA_ROOT)),
                expires_at=timezone.now() + timedelta(hours=1),
            )
        )
    return [
        ("inside", {"batch_id": made[0].pk}),
        ("outside", {"batch_id": made[1].pk}),
        ("missing", {"batch_id": MISSING}),
    ]


def warning_missing(world: "World", role: str) -> list[tuple[str, dict]]:
    return [("missing", {"warning_id": MISSING, "action": "acknowledge"})]


def export_query(world: "World", role: str) -> str:
    inside = next((o for w, o in world.picks("estate", role) if w == "inside"), None)
    return f"format=csv&estate={inside.pk if inside else MISSING}"


FILL: dict[str, Spec] = {
    "staff-login": Spec(public=True),
    "staff-logout": Spec(post_only=True),
    "staff-home": Spec(),
    "staff-module": Spec(fill=modules),
    "assets": Spec(),
    "asset-estate-new": Spec(),
    "asset-estate": Spec(fill=by("estate", "estate_id")),
    "asset-estate-edit": Spec(fill=by("estate", "estate_id")),
    "asset-estate-publish": Spec(fill=by("estate", "estate_id"), post_only=True),
    "asset-estate-release": Spec(fill=by("estate", "estate_id"), post_only=True),
    "asset-building-new": Spec(fill=by("estate", "estate_id")),
    "asset-units": Spec(),
    "asset-unit": Spec(fill=by("unit", "unit_id")),
    "asset-import": Spec(),
    "asset-import-commit": Spec(post_only=True),
    "asset-export": Spec(query=export_query),
    "asset-template": Spec(),
    "data-checks": Spec(),
    "data-checks-export": Spec(),
    "standard-export": Spec(),
    "standard-export-download": Spec(),
    "standard-export-faults": Spec(),
    "publishing": Spec(),
    "publishing-notice-new": Spec(),
    "publishing-correct": Spec(fill=by("publication", "publication_id")),
    "publishing-objections": Spec(),
    "publishing-pages": Spec(),
    "publishing-page-new": Spec(),
    "publishing-page-edit": Spec(fill=by("page", "page_id")),
    "review-queue": Spec(),
    "review-counter": Spec(),
    "review-detail": Spec(fill=by("application", "application_id")),
    "review-decide": Spec(fill=by("application", "application_id"), post_only=True),
    "review-data-check": Spec(fill=by("application", "application_id"), post_only=True),
    "review-publicity": Spec(fill=by("county", "county_id"), post_only=True),
    "review-claims": Spec(),
    "review-claim": Spec(fill=by("claim", "claim_id")),
    "review-claim-decide": Spec(fill=by("claim", "claim_id"), post_only=True),
    "allocation": Spec(county_param=True),
    "allocation-rounds": Spec(),
    "allocation-round-new": Spec(county_param=True),
    "allocation-round": Spec(fill=by("round", "round_id")),
    "allocation-round-announce": Spec(fill=by("round", "round_id"), post_only=True),
    "allocation-round-draw": Spec(fill=by("round", "round_id"), post_only=True),
    "allocation-round-open": Spec(fill=by("round", "round_id"), post_only=True),
    "allocation-round-close": Spec(fill=by("round", "round_id"), post_only=True),
    "allocation-round-delete": Spec(fill=by("round", "round_id"), post_only=True),
    "allocation-round-choose": Spec(fill=by("round", "round_id"), post_only=True),
    "allocation-offer-accept": Spec(fill=by_offer, post_only=True),
    "allocation-offer-refuse": Spec(fill=by_offer, post_only=True),
    "contracts": Spec(),
    "contract-new": Spec(fill=by("accepted_offer", "offer_id")),
    "contract-detail": Spec(fill=by("contract", "contract_id")),
    "contract-pdf": Spec(fill=by("contract", "contract_id")),
    "contract-approve": Spec(fill=by("contract", "contract_id"), post_only=True),
    "contract-cancel": Spec(fill=by("contract", "contract_id"), post_only=True),
    "contract-move-in": Spec(fill=by("contract", "contract_id"), post_only=True),
    "contract-templates": Spec(),
    "contract-template-edit": Spec(fill=by("county", "county_id")),
    "rent": Spec(),
    "rent-bills": Spec(),
    "rent-bill": Spec(fill=by("bill", "bill_id")),
    "rent-payments": Spec(),
    "rent-import": Spec(),
    "rent-import-commit": Spec(post_only=True),
    "rent-arrears": Spec(),
    "credit": Spec(),
    "credit-proposals": Spec(),
    "credit-proposal-new": Spec(),
    "credit-proposal": Spec(fill=by("proposal", "proposal_id")),
    "credit-proposal-letter": Spec(fill=by("proposal", "proposal_id")),
    "credit-proposal-act": Spec(fill=acting("proposal", "proposal_id", "confirm"), post_only=True),
    "credit-records": Spec(),
    "credit-record": Spec(fill=by("record", "record_id")),
    "credit-record-repair": Spec(fill=acting("record", "record_id", "ask"), post_only=True),
    "credit-query": Spec(),
    "credit-statistics": Spec(),
    # 统计分析 (issue 16 point 1): figures scoped by jurisdiction, ?county= outside it is a 404
    "statistics": Spec(county_param=True),
    "statistics-dashboard": Spec(fill=dashboards, county_param=True),
    "credit-evidence-file": Spec(fill=credit_file),
    "archives": Spec(),
    "archive-unit": Spec(fill=by("unit", "unit_id")),
    "archive-household": Spec(fill=by("household", "household_id")),
    "archive-file": Spec(fill=stored_file),
    "archive-file-log": Spec(fill=stored_file),
    "archive-batches": Spec(),
    "archive-batch-status": Spec(fill=own_batch),
    "archive-batch-download": Spec(fill=own_batch),
    # 运营管理 (issue 13): every queue is scoped by the estate of the lease (or of the repair)
    "operations": Spec(),
    # 系统管理 (issue 16 point 4): accounts and county rules, by account administrators
    "system": Spec(),
    "system-accounts": Spec(),
    "system-account-new": Spec(),
    "system-account": Spec(fill=staff_account),
    "system-account-act": Spec(fill=staff_account_act, post_only=True),
    "system-policies": Spec(),
    "system-message-templates": Spec(),
    "system-message-template": Spec(fill=message_template),
    "system-policy": Spec(fill=by("county", "county_id")),
    "system-policy-history": Spec(fill=by("county", "county_id")),
    # city-wide: the calendar and the credit catalogue, by the city's administrators only
    "system-calendar": Spec(),
    "system-calendar-remove": Spec(
        fill=lambda world, role: [("missing", {"day_id": MISSING})], post_only=True
    ),
    "system-catalogue": Spec(),
    "system-catalogue-conduct": Spec(fill=conduct),
    "system-catalogue-delete": Spec(fill=conduct, post_only=True),
    "recheck": Spec(),
    "recheck-runs": Spec(),
    "recheck-run-now": Spec(post_only=True),
    "recheck-hit": Spec(fill=by("hit", "hit_id")),
    "recheck-decide": Spec(fill=by("hit", "hit_id"), post_only=True),
    "annual-reviews": Spec(),
    "annual-review": Spec(fill=by("annual_review", "review_id")),
    "annual-review-decide": Spec(fill=by("annual_review", "review_id"), post_only=True),
    "renewals": Spec(),
    "renewal": Spec(fill=by("renewal", "renewal_id")),
    "renewal-decide": Spec(fill=by("renewal", "renewal_id"), post_only=True),
    "renewal-recheck": Spec(fill=by("renewal", "renewal_id"), post_only=True),
    "repairs": Spec(),
    "repair-new": Spec(),
    "repair-detail": Spec(fill=by("repair", "repair_id")),
    "repair-assign": Spec(fill=by("repair", "repair_id"), post_only=True),
    "repair-schedule": Spec(fill=by("repair", "repair_id"), post_only=True),
    "repair-close": Spec(fill=by("repair", "repair_id"), post_only=True),
    "repair-photo": Spec(fill=repair_photo),
    "violations": Spec(),
    "violation": Spec(fill=by("case", "case_id")),
    "violation-record": Spec(fill=by("case", "case_id"), post_only=True),
    "violation-conclude": Spec(fill=by("case", "case_id"), post_only=True),
    "violation-decide": Spec(fill=by("case", "case_id"), post_only=True),
    "violation-follow-up": Spec(fill=by("case", "case_id"), post_only=True),
    "violation-photo": Spec(fill=case_photo),
    "violation-complaints": Spec(),
    "violation-complaint": Spec(fill=by("complaint", "complaint_id")),
    "violation-arrears": Spec(),
    "violation-idle": Spec(),
    "violation-utility-import": Spec(),
    "violation-utility-commit": Spec(post_only=True),
    "inspections": Spec(),
    "inspection-visit": Spec(fill=by("unit", "unit_id")),
    "exits": Spec(),
    "exit-new": Spec(),
    "exit": Spec(fill=by("exit", "exit_id")),
    "exit-inspect": Spec(fill=by("exit", "exit_id"), post_only=True),
    "exit-settle": Spec(fill=by("exit", "exit_id"), post_only=True),
    "exit-withdraw": Spec(fill=by("exit", "exit_id"), post_only=True),
    "exit-overdue": Spec(fill=by("exit", "exit_id"), post_only=True),
    "evaluation": Spec(),
    "evaluation-compute": Spec(post_only=True),
    "evaluation-publish": Spec(post_only=True),
    # 自动预警: the centre (a county filter); its actions are POSTs, tested in
    # tests/insights/test_warnings.py with warnings on both sides of the line
    "warnings": Spec(county_param=True),
    "warning-act": Spec(fill=warning_missing, post_only=True),
    "staff-messages": Spec(),
    "staff-messages-read": Spec(post_only=True),
}


def staff_url_names() -> list[str]:
    """The name of every URL pattern under staff/, walking included URLconfs."""
    names: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif route.startswith("staff/"):
                names.append(pattern.name or f"<unnamed: {route}>")

    walk(get_resolver().url_patterns, "")
    return names


def test_every_staff_url_is_mapped():
    names = staff_url_names()
    assert len(names) == len(set(names)), "two staff URLs share a name"
    assert not set(names) - set(FILL), "new staff URLs: say in FILL how to fill them"
    assert not set(FILL) - set(names), "FILL names URLs that no longer exist"


@dataclass
class World:
    """Objects in and out of each role's jurisdiction, judged here from where they lie."""

    cast: object
    parent: dict[int, int | None]
    candidates: dict[str, list] = field(default_factory=dict)

    def region_of(self, role: str) -> Region | None:
        profile = getattr(self.cast.users[role], "staff_profile", None)
        return profile.region if profile else None

    def operator_of(self, role: str) -> int | None:
        profile = getattr(self.cast.users[role], "staff_profile", None)
        return profile.operator_id if profile else None

    def chain(self, region_id: int | None) -> list[int]:
        """The region and its ancestors, nearest first."""
        found = []
        while region_id is not None:
            found.append(region_id)
            region_id = self.parent[region_id]
        return found

    def place(self, kind: str, obj) -> tuple[int | None, int | None]:
        """(the most precise region it lies in, its operator)."""
        if kind == "repair_photo":
            obj, kind = obj.repair, "repair"
        if kind in ("repair", "complaint"):
            obj, kind = obj.estate, "estate"
        if kind == "case":
            obj, kind = obj.unit, "unit"
        if kind in ("bill", "hit", "annual_review", "renewal", "exit"):
            obj, kind = obj.contract, "contract"
        if kind in ("accepted_offer", "contract"):
            obj, kind = obj.unit, "unit"
        if kind == "unit":
            obj = obj.building.estate
            kind = "estate"
        if kind == "estate":
            return obj.community_id or obj.street_id or obj.district_id, obj.operator_id
        if kind == "claim":
            obj, kind = obj.application, "application"
        if kind == "household":  # where it applied (operators: see `inside`)
            return obj.community_id or obj.street_id or obj.county_id, None
        if kind == "application":
            return obj.community_id or obj.street_id or obj.county_id, None
        if kind == "publication":
            return obj.region_id, None
        if kind == "round":
            return obj.county_id, None
        if kind == "offer":
            return obj.round.county_id, None
        if kind == "county":
            return obj.pk, None
        if kind in ("proposal", "record"):
            return obj.county_id, None
        return None, None

    def inside(self, kind: str, obj, role: str) -> bool:
        if kind == "stored_file":  # 一房一档 through the unit, 一户一档 through the household
            household = obj.repair.household
            return self.inside("repair_photo", obj, role) or (
                household is not None and self.inside("household", household, role)
            )
        if kind == "household" and self.operator_of(role):
            # An operator sees the households holding one of its leases.
            leased = obj.contracts.values_list("unit__building__estate__operator_id", flat=True)
            return self.operator_of(role) in set(leased)
        if kind == "page":
            return True  # policies and guides belong to no region
        if kind in ("claim", "proposal", "record") and role not in ("city", "district"):
            return False  # only county and city departments verify people and decide credit
        region_id, operator_id = self.place(kind, obj)
        if self.operator_of(role):
            return operator_id is not None and operator_id == self.operator_of(role)
        region = self.region_of(role)
        if region is None or region.pk not in self.chain(region_id):
            return False
        if kind == "application" and role in STEP_OF:
            return obj.stage == STEP_OF[role]
        return True

    def picks(self, kind: str, role: str) -> list[tuple[str, object]]:
        """One object inside the role's jurisdiction (if any) and the nearest and the farthest
        outside it (sharing the longest and the shortest stretch of the region tree)."""
        if role not in STAFF:
            role = "district"  # visitors and non-staff are refused whatever the object
        objects = self.candidates[kind]
        inside = [o for o in objects if self.inside(kind, o, role)]
        outside = [o for o in objects if not self.inside(kind, o, role)]
        mine = set(self.chain(self.region_of(role).pk)) if self.region_of(role) else set()

        def shared(obj) -> int:
            return len(mine & set(self.chain(self.place(kind, obj)[0])))

        outside.sort(key=lambda o: (shared(o), o.pk))
        chosen = [("inside", o) for o in inside[:1]]
        chosen += [("outside", o) for o in {id(o): o for o in outside[-1:] + outside[:1]}.values()]
        return chosen


def new_application(seq: int, community: Region, stage: str) -> Application:
    street = community.parent
    number = make_id_number(street.parent.adcode, date(1980, 1, 1), seq)
    application = Application(
        name="测试",
        id_number=number,
        phone=f"1390000{seq:04d}",
        county=street.parent,
        street=street,
        community=community,
        consent=True,
    )
    housing.save_application(application, [{"name": "测试", "relation": "本人"}], submit=True)
    Application.objects.filter(pk=application.pk).update(stage=stage)
    return Application.objects.get(pk=application.pk)


@pytest.fixture
def world(cast) -> World:
    community = cast.users["community"].staff_profile.region
    street = community.parent
    county = street.parent
    other_community = Region.objects.filter(parent=street).exclude(pk=community.pk).first()
    other_street = Region.objects.filter(parent=county).exclude(pk=street.pk).first()
    other_county = Region.objects.get(adcode="341621")
    applications = [
        new_application(901, community, "accept"),
        new_application(902, community, "first_review"),
        new_application(903, other_community, "accept"),
        new_application(904, other_street.children.first(), "first_review"),
        new_application(905, other_county.children.first().children.first(), "accept"),
        *Application.objects.exclude(stage="draft").order_by("pk")[:60],
    ]
    claimant = Applicant.objects.create(phone="13900009900")
    claims = [
        IdentityClaim.objects.create(
            claimant=claimant, application=a, id_number=a.id_number, reason="clash"
        )
        for a in applications[:5]
    ]
    woyang = make_staff("u-woyang", "district", region=other_county)
    vacant = Unit.objects.filter(building__estate__district=other_county, status="vacant")
    rounds.create_round(
        other_county,
        name="涡阳测试批次",
        unit_ids=list(vacant.values_list("pk", flat=True)[:2]),
        invitation=Round.Invitation.HEAD,
        invite_count=1,
        actor=woyang,
    )
    units = Unit.objects.select_related("building__estate").order_by("building__estate_id", "pk")
    renewal_in(county, community)
    cases, filed = violations_everywhere(cast.users["city"])
    return World(
        cast=cast,
        parent=dict(Region.objects.values_list("pk", "parent_id")),
        candidates={
            "estate": list(Estate.objects.order_by("pk")),
            "unit": list(units.distinct("building__estate")),  # one unit per estate
            "application": applications,
            "publication": list(Publication.objects.current().order_by("pk")),
            "page": list(Page.objects.order_by("pk")),
            "round": list(Round.objects.order_by("pk")),
            "offer": list(Offer.objects.select_related("round").order_by("pk")),
            "county": list(Region.objects.filter(level=Region.Level.DISTRICT)),
            "claim": claims,
            "accepted_offer": list(
                Offer.objects.filter(status="accepted", contract__isnull=True)
                .select_related("unit__building__estate")
                .order_by("pk")
            ),
            "contract": list(
                Contract.objects.select_related("unit__building__estate").order_by("pk")
            ),
            "household": list(
                Household.objects.filter(contracts__isnull=False)
                .order_by("community_id", "pk")
                .distinct("community_id")
            ),
            # Photos whose bytes serve no other repair (the same bytes are stored once).
            "stored_file": list(
                RepairPhoto.objects.filter(
                    document_id__in=RepairPhoto.objects.values("document_id")
                    .annotate(uses=Count("pk"))
                    .filter(uses=1)
                    .values("document_id")
                )
                .select_related("repair__estate", "repair__household")
                .order_by("repair__estate_id", "pk")
                .distinct("repair__estate_id")
            ),
            "proposal": list(Proposal.objects.order_by("county_id", "pk").distinct("county_id")),
            "record": list(Record.objects.order_by("county_id", "pk").distinct("county_id")),
            "bill": one_per_estate(Bill),
            "hit": one_per_estate(RecheckHit),
            "annual_review": one_per_estate(AnnualReview),
            "renewal": one_per_estate(Renewal),
            "exit": one_per_estate(Exit),
            "repair": list(
                Repair.objects.select_related("estate")
                .order_by("estate_id", "pk")
                .distinct("estate_id")
            ),
            "repair_photo": list(
                RepairPhoto.objects.select_related("repair__estate")
                .order_by("repair__estate_id", "pk")
                .distinct("repair__estate_id")
            ),
            "case": cases,
            "complaint": filed,
        },
    )


LEASE_ESTATE = "contract__unit__building__estate"


def one_per_estate(model) -> list:
    """One row of a model hanging off a lease for each estate (the demo's and the fixture's)."""
    return list(
        model.objects.select_related(LEASE_ESTATE)
        .order_by(f"{LEASE_ESTATE}_id", "pk")
        .distinct(f"{LEASE_ESTATE}_id")
    )


def renewal_in(county: Region, community: Region) -> Renewal:
    """A pending renewal of a running lease in the district's county (the demo asks for
    renewals elsewhere), in the community's own estates when it has one."""
    contract = (
        Contract.objects.filter(
            unit__building__estate__district=county,
            status=Contract.Status.ACTIVE,
            renewals__isnull=True,
        )
        .select_related("unit__building__estate")
        .order_by("pk")
    )
    contract = (
        contract.filter(unit__building__estate__community=community).first() or contract.first()
    )
    return Renewal.objects.create(
        contract=contract, household_id=contract.household_id, months=36, answers={}
    )


def violations_everywhere(root) -> tuple[list, list]:
    """A violation case with a photographed visit on every estate with units, and a public
    complaint on every published one, so each role has one inside and others outside."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, "JPEG")
    cases, filed = [], []
    estates = Estate.objects.filter(buildings__units__isnull=False).distinct().order_by("pk")
    for n, estate in enumerate(estates):
        unit = Unit.objects.filter(building__estate=estate).order_by("pk").first()
        case = violations.open_case(
            kind_code="sublet",
            unit_id=unit.pk,
            contract_id=None,
            household_id=None,
            source="manual",
            source_ref=f"urls:{n}",
            summary="线索",
            evidence={},
            actor=root,
        )
        violations.add_record(
            case.pk, kind="visit", text="核查", photos=[("p.jpg", out.getvalue())], actor=root
        )
        cases.append(ViolationCase.objects.select_related("unit__building__estate").get(pk=case.pk))
        if estate.published:
            filed.append(
                complaints.submit(
                    estate_id=estate.pk,
                    place="",
                    kind_code="",
                    text="这套房子长期没有人住，门口广告很多",
                    anonymous=True,
                    phone="",
                )
            )
    return cases, filed


def expected(spec: Spec, role: str, where: str, inside: int | None) -> set[int]:
    """What a GET must answer, before any query string; `inside` is the answer the role got
    for the object inside its jurisdiction (a role refused a whole page may be refused before
    the lookup, so a missing object may answer 403 too)."""
    if spec.public:
        return {200} if role == "anonymous" else {302}
    if role == "anonymous":
        return {302, 405} if spec.post_only else {302}
    if role == "outsider":
        return {403, 405} if spec.post_only else {403}
    if spec.post_only:
        return {405} if where == "inside" else {404, 405}
    if where == "inside":
        return {200, 403}
    if where == "missing" and inside == 403:
        return {403, 404}
    return {404}


# Hostile query strings are tried as the city (several counties), a district and an operator
# (no region at all): the branches a query parameter can take; streets and communities take
# the district's, and checking them too would double the run for nothing new.
HOSTILE_ROLES = {"city", "district", "operator"}


def check(client, spec: Spec, name: str, world: "World", role: str) -> list[str]:
    problems = []
    fills = spec.fill(world, role) if spec.fill else [("inside", {})]
    query = spec.query(world, role) if spec.query else ""
    inside = None
    for where, kwargs in fills:
        url = reverse(name, kwargs=kwargs)
        full = f"{url}?{query}" if query else url
        response = client.get(full)
        status = response.status_code
        if where == "inside":
            inside = status
        allowed = expected(spec, role, where, inside)
        if status not in allowed:
            problems.append(f"{role}: {where} {full} answers {status}, not {sorted(allowed)}")
        elif status == 302 and not spec.public and not response["Location"].startswith(LOGIN):
            problems.append(f"{role}: {full} sends to {response['Location']}, not to {LOGIN}")
        if spec.county_param and where == "inside" and role in ("city", "district"):
            # 涡阳县 is outside the district's jurisdiction and inside the city's.
            answer = client.get(f"{url}?county=341621").status_code
            allowed = {404} if role == "district" else {200, 403}
            if answer not in allowed:
                problems.append(f"{role}: {url}?county=341621 answers {answer}, not {allowed}")
        if where != "inside" or spec.post_only or spec.public or role not in HOSTILE_ROLES:
            continue
        for hostile in HOSTILE:
            joined = f"{url}?{urlencode(dict(parse_qsl(query)) | dict(parse_qsl(hostile)))}"
            answer = client.get(joined).status_code
            if answer >= 500:
                problems.append(f"{role}: {joined} answers {answer}")
    return problems


@pytest.mark.parametrize("name", sorted(FILL))
def test_staff_url_answers_by_role_and_jurisdiction(client, world, name):
    """Every role, in and out of its jurisdiction, with and without hostile query strings."""
    client.raise_request_exception = False  # a 500 is reported with the others, not raised
    problems = []
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(world.cast.users[role])
        problems += check(client, FILL[name], name, world, role)
    assert not problems, "\n".join(problems)


# 配后管理's objects, each scoped by the estate it concerns.
AFTERCARE = (
    "hit",
    "annual_review",
    "renewal",
    "repair",
    "repair_photo",
    "case",
    "complaint",
    "exit",
)


def test_the_map_has_objects_on_both_sides_of_every_line(world):
    """The jurisdiction checks above mean something only if there is something to find."""
    for kind in ("estate", "unit", "application", "publication", "round", *AFTERCARE):
        for role in ("district", "street", "community", "operator"):
            where = {w for w, _obj in world.picks(kind, role)}
            assert "outside" in where, (kind, role)
        assert "inside" in {w for w, _obj in world.picks(kind, "district")}, kind
    for kind in AFTERCARE:
        assert "inside" in {w for w, _obj in world.picks(kind, "operator")}, kind
    for role in ("street", "community", "operator"):
        assert "inside" in {w for w, _obj in world.picks("estate", role)}, role
    for role in ("street", "community"):
        assert "inside" in {w for w, _obj in world.picks("application", role)}, role
    assert "inside" in {w for w, _obj in world.picks("round", "city")}
