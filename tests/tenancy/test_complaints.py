"""The public report form (/report/): anonymous or with a phone kept encrypted, a reference
number shown to the reporter only, the unit matched from what they typed, and at most five
reports an hour from one address (the sixth is refused and nothing is kept)."""

import pytest
from django.db import connection
from django.urls import reverse

from archive.models import Event, RateCounter
from geo.models import Estate, Unit
from tenancy.models import Complaint
from tenancy.services import complaints

TEXT = "这套房子最近一直是陌生人在住，原来的住户搬走了"


@pytest.fixture
def estate(db) -> Estate:
    estate = Estate.objects.published().filter(buildings__units__isnull=False).first()
    assert estate is not None
    return estate


@pytest.fixture(autouse=True)
def fresh_counters(db):
    RateCounter.objects.filter(key__startswith="complaint-ip:").delete()


@pytest.fixture
def filed(db):
    """The complaints a test files (the demo city has some already)."""
    last = Complaint.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return lambda: Complaint.objects.filter(pk__gt=last)


def post(client, estate, addr="203.0.113.7", **extra):
    data = {"estate": estate.pk, "place": "", "kind": "sublet", "text": TEXT, "anonymous": "on"}
    data.update(extra)
    return client.post(reverse("complaint"), data, REMOTE_ADDR=addr)


def test_the_form_is_public_and_lists_published_estates_only(client, estate):
    page = client.get(reverse("complaint"))
    assert page.status_code == 200
    choices = dict(page.context["form"].fields["estate"].choices)
    flat = {pk for group in choices.values() if isinstance(group, list) for pk, _ in group}
    assert estate.pk in flat
    assert not Estate.objects.filter(pk__in=flat, published=False).exists()


def test_an_anonymous_report_gets_a_reference_shown_to_its_reporter_only(client, estate, filed):
    response = post(client, estate)
    complaint = filed().get()
    assert response["Location"] == reverse("complaint-receipt", args=[complaint.reference])
    receipt = client.get(response["Location"])
    assert complaint.reference in receipt.content.decode()
    assert complaint.reference.startswith("JB") and complaint.county_id == estate.district_id
    assert (complaint.anonymous, complaint.phone, complaint.status) == (True, "", "new")
    assert Event.objects.filter(action="complaint.received", estate_id=estate.pk).exists()
    other = client.__class__()
    assert other.get(response["Location"])["Location"] == reverse("complaint")


def test_a_named_report_keeps_the_phone_encrypted(client, estate, filed):
    post(client, estate, anonymous="", phone="13912345678")
    complaint = filed().get()
    assert complaint.phone == "13912345678"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT phone FROM {Complaint._meta.db_table} WHERE id = %s", [complaint.pk]
        )
        (stored,) = cursor.fetchone()
    assert "13912345678" not in stored


def test_a_named_report_without_a_phone_is_refused_naming_the_field(client, estate, filed):
    page = post(client, estate, anonymous="", phone="")
    assert page.status_code == 200 and "联系电话" in page.content.decode()
    assert not filed().exists()


def test_a_phone_typed_with_the_anonymous_box_ticked_is_not_kept(client, estate, filed):
    post(client, estate, anonymous="on", phone="13912345678")
    assert filed().get().phone == ""


def test_the_sixth_report_in_an_hour_from_one_address_is_refused(client, estate, filed):
    for _ in range(5):
        assert post(client, estate).status_code == 302
    refused = post(client, estate)
    assert refused.status_code == 429 and "过于频繁" in refused.content.decode()
    assert filed().count() == 5
    assert post(client, estate, addr="198.51.100.9").status_code == 302  # another address


def test_the_unit_is_matched_from_building_and_number_and_repeats_are_counted(estate):
    unit = Unit.objects.filter(building__estate=estate).select_related("building").first()
    before = complaints.repeated([unit.pk]).get(unit.pk, 0)
    for place in (f"{unit.building.number} {unit.number}", f"{unit.building.number}-{unit.number}"):
        complaint = complaints.submit(
            estate_id=estate.pk,
            place=place,
            kind_code="",
            text=TEXT,
            anonymous=True,
            phone="",
        )
        assert complaint.unit_id == unit.pk
    assert complaints.repeated([unit.pk]) == {unit.pk: before + 2}


def test_a_dismissal_needs_a_reason_and_happens_once(estate, cast):
    complaint = complaints.submit(
        estate_id=cast.inside["district"].pk,
        place="",
        kind_code="",
        text=TEXT,
        anonymous=True,
        phone="",
    )
    clerk = cast.users["district"]
    from housing.errors import NotAllowed

    with pytest.raises(NotAllowed, match="理由"):
        complaints.dismiss(complaint.pk, reason=" ", actor=clerk)
    complaints.dismiss(complaint.pk, reason="经核实为正常探亲", actor=clerk)
    with pytest.raises(NotAllowed, match="已处理"):
        complaints.dismiss(complaint.pk, reason="again", actor=clerk)
