"""Grid workers' visits (入户巡查): the list and the form show only the let units of their own
community (any other unit is a 404), a visit is kept with its photos stripped of metadata, and
a suspected violation found at the door opens a case with source "inspection"."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from archive import documents
from archive.models import Event
from geo.models import Estate, Unit
from housing.errors import NotAllowed
from tenancy.models import Inspection, ViolationCase
from tenancy.services import inspections
from tests.tenancy.test_violations import jpeg_with_gps


def let_unit(estate: Estate) -> Unit:
    unit = Unit.objects.filter(building__estate=estate, status=Unit.Status.OCCUPIED).first()
    assert unit is not None, f"{estate} has a let unit in the demo"
    return unit


@pytest.fixture
def worker(cast):
    return cast.users["community"]


def test_the_list_holds_only_the_let_units_of_the_workers_community(client, cast, worker):
    home = cast.inside["community"]
    visits = Inspection.objects.count()
    client.force_login(worker)
    page = client.get(reverse("inspections"))
    units = list(page.context["page"].paginator.object_list)
    assert units and all(u.building.estate.community_id == home.community_id for u in units)
    assert all(u.status == Unit.Status.OCCUPIED for u in units)
    assert client.get(reverse("inspection-visit", args=[let_unit(home).pk])).status_code == 200
    other = (
        Estate.objects.filter(district=home.district)
        .exclude(community=home.community)
        .filter(buildings__units__status="occupied")
        .first()
    )
    for estate in (other, cast.outside):
        unit = let_unit(estate)
        assert client.get(reverse("inspection-visit", args=[unit.pk])).status_code == 404
        assert (
            client.post(
                reverse("inspection-visit", args=[unit.pk]),
                {"occupant_present": "yes", "answered_by": "tenant"},
            ).status_code
            == 404
        )
    assert Inspection.objects.count() == visits


def test_the_list_does_not_query_per_unit(client, worker, django_assert_max_num_queries):
    client.force_login(worker)
    with django_assert_max_num_queries(10):
        client.get(reverse("inspections"))


def test_a_normal_visit_from_the_phone_form(client, cast, worker):
    unit = let_unit(cast.inside["community"])
    client.force_login(worker)
    photo = SimpleUploadedFile("门口.jpg", jpeg_with_gps(), content_type="image/jpeg")
    response = client.post(
        reverse("inspection-visit", args=[unit.pk]),
        {
            "visited_on": timezone.localdate().isoformat(),
            "occupant_present": "yes",
            "answered_by": "tenant",
            "notes": "承租人在家，居住正常",
            "suspected": "",
            "photos": [photo],
        },
    )
    assert response.status_code == 302
    visit = Inspection.objects.get(unit=unit, inspector=worker)
    assert (visit.occupant_present, visit.case_id, visit.inspector) == (True, None, worker)
    (kept,) = visit.photos.all()
    content = documents.read(kept)
    assert b"PhoneMaker" not in content and not Image.open(io.BytesIO(content)).getexif()
    assert Event.objects.filter(action="inspection.visit", unit_id=unit.pk).exists()
    listed = client.get(reverse("inspections"), {"due": "1"}).context["page"].paginator.object_list
    assert unit.pk not in {u.pk for u in listed}


def test_a_suspected_violation_opens_a_case(cast, worker):
    unit = let_unit(cast.inside["community"])
    visit = inspections.record_visit(
        unit_id=unit.pk,
        visited_on=timezone.localdate(),
        occupant_present=True,
        answered_by="other",
        notes="应门者自称租客，每月向承租人交房租",
        suspected_code="sublet",
        actor=worker,
    )
    case = ViolationCase.objects.get(pk=visit.case_id)
    assert (case.source, case.kind.code, case.unit_id) == ("inspection", "sublet", unit.pk)
    assert case.source_ref == f"inspection:{visit.pk}"


def test_bad_visits_are_refused_naming_the_field(cast, worker):
    unit = let_unit(cast.inside["community"])
    visits = Inspection.objects.count()
    with pytest.raises(NotAllowed, match="巡查日期"):
        inspections.record_visit(
            unit_id=unit.pk,
            visited_on=timezone.localdate() + timedelta(days=1),
            occupant_present=True,
            answered_by="tenant",
            notes="",
            actor=worker,
        )
    with pytest.raises(NotAllowed, match="巡查情况"):
        inspections.record_visit(
            unit_id=unit.pk,
            visited_on=timezone.localdate(),
            occupant_present=False,
            answered_by="nobody",
            notes="",
            suspected_code="idle",
            actor=worker,
        )
    assert Inspection.objects.count() == visits


def test_pending_visits_count_the_units_never_or_long_ago_visited(cast, worker):
    from backoffice.inspections import pending_tasks

    (task,) = pending_tasks(worker)
    before = task.count
    assert before > 0
    inspections.record_visit(
        unit_id=let_unit(cast.inside["community"]).pk,
        visited_on=timezone.localdate(),
        occupant_present=True,
        answered_by="tenant",
        notes="",
        actor=worker,
    )
    assert pending_tasks(worker)[0].count == before - 1


def test_visits_due_are_a_grid_workers_task_only(cast):
    from backoffice.inspections import pending_tasks

    assert pending_tasks(cast.users["district"]) == []
    assert pending_tasks(cast.users["operator"]) == []
