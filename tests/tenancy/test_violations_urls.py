"""Every violation and inspection URL through the back office's every-URL harness
(tests/backoffice/test_every_staff_url.py): each role, inside and outside its jurisdiction and
with hostile query strings, answers as the harness expects (no 500, 404 outside, 405 for
POST-only URLs, 403 for non-staff, sign-in for visitors). Cases and complaints are made on every
estate so each role has one inside and the nearest and farthest outside."""

import io

import pytest
from PIL import Image

from geo.models import Estate, Unit
from tenancy.models import ViolationCase
from tenancy.services import complaints, violations
from tests.backoffice.test_every_staff_url import MISSING, ROLES, Spec, World, by, check
from tests.backoffice.test_every_staff_url import world as staff_world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


def photo_fill(places: World, role: str) -> list[tuple[str, dict]]:
    picked = [
        (where, {"case_id": case.pk, "sha256": case.records.first().photos.first().sha256})
        for where, case in places.picks("case", role)
    ]
    return [*picked, ("missing", {"case_id": MISSING, "sha256": "0" * 64})]


URLS = {
    "violations": Spec(),
    "violation": Spec(fill=by("case", "case_id")),
    "violation-record": Spec(fill=by("case", "case_id"), post_only=True),
    "violation-conclude": Spec(fill=by("case", "case_id"), post_only=True),
    "violation-decide": Spec(fill=by("case", "case_id"), post_only=True),
    "violation-follow-up": Spec(fill=by("case", "case_id"), post_only=True),
    "violation-photo": Spec(fill=photo_fill),
    "violation-complaints": Spec(),
    "violation-complaint": Spec(fill=by("complaint", "complaint_id")),
    "violation-arrears": Spec(),
    "violation-idle": Spec(),
    "violation-utility-import": Spec(),
    "violation-utility-commit": Spec(post_only=True),
    "inspections": Spec(),
    "inspection-visit": Spec(fill=by("unit", "unit_id")),
}


class ViolationWorld(World):
    def place(self, kind: str, obj) -> tuple[int | None, int | None]:
        if kind == "case":
            return super().place("unit", obj.unit)
        if kind == "complaint":
            return super().place("estate", obj.estate)
        return super().place(kind, obj)


@pytest.fixture
def violation_world(staff_world, cast) -> World:  # noqa: F811 (the imported fixture)
    out = io.BytesIO()
    Image.new("RGB", (64, 64)).save(out, "JPEG")
    root = cast.users["city"]
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
    staff_world.__class__ = ViolationWorld
    staff_world.candidates["case"] = cases
    staff_world.candidates["complaint"] = filed
    return staff_world


@pytest.mark.parametrize("name", sorted(URLS))
def test_violation_url_answers_by_role_and_jurisdiction(client, violation_world, name):
    client.raise_request_exception = False  # a 500 is reported with the others, not raised
    problems = []
    for role in ROLES:
        client.logout()
        if role != "anonymous":
            client.force_login(violation_world.cast.users[role])
        problems += check(client, URLS[name], name, violation_world, role)
    assert not problems, "\n".join(problems)
