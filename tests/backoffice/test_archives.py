"""档案管理 pages (issue 15 points 1–2): staff find and read a unit's or a household's file in
their jurisdiction only, open its stored files inline or as downloads, and every view or
download of a file is logged, append-only, with who, how and from where."""

import pytest
from django.db import DatabaseError, transaction
from django.urls import reverse

from archive.models import FileAccess
from geo.models import Unit
from housing.models import Household
from insights import dossiers
from tenancy.models import Contract, RepairPhoto

pytestmark = pytest.mark.django_db


def _lease_in(district) -> Contract:
    """A lease of a unit in the district's county held by a household of that county."""
    county = district.staff_profile.region
    return (
        Contract.objects.filter(unit__building__estate__district=county, household__county=county)
        .select_related("household", "unit")
        .order_by("pk")
        .first()
    )


def _lease_outside(cast) -> Contract:
    district = cast.users["district"].staff_profile.region
    return (
        Contract.objects.exclude(unit__building__estate__district=district)
        .exclude(household__county=district)
        .select_related("household")
        .order_by("pk")
        .first()
    )


def _document_only_outside(cast) -> str:
    """A stored file none of whose units or households lies in the district's county (the same
    bytes may serve several leases: the demo's 存量 leases share one placeholder PDF)."""
    county = cast.users["district"].staff_profile.region
    candidates = list(Contract.objects.exclude(signed=None).values_list("signed_id", flat=True))
    candidates += list(RepairPhoto.objects.values_list("document_id", flat=True))
    for sha in candidates:
        units, households = dossiers.document_owners(sha)
        if not Unit.objects.filter(pk__in=units, building__estate__district=county).exists() and (
            not Household.objects.filter(pk__in=households, county=county).exists()
        ):
            return sha
    raise AssertionError("the demo has a file outside the district")


def test_a_clerk_finds_a_household_and_reads_its_file(client, cast):
    district = cast.users["district"]
    lease = _lease_in(cast.users["district"])
    client.force_login(district)
    found = client.get(reverse("archives"), {"q": lease.household.public_key.lower()})
    assert reverse("archive-household", args=[lease.household_id]) in found.content.decode()
    page = client.get(reverse("archive-household", args=[lease.household_id]))
    html = page.content.decode()
    assert page.status_code == 200
    assert lease.household.public_key in html and "办理记录" in html
    assert reverse("archive-file", args=[lease.draft_id]) in html


def test_a_clerk_finds_a_unit_by_estate_and_number(client, cast):
    lease = _lease_in(cast.users["district"])
    client.force_login(cast.users["district"])
    query = {"estate": lease.unit.building.estate_id, "unit": lease.unit.number}
    html = client.get(reverse("archives"), query).content.decode()
    assert reverse("archive-unit", args=[lease.unit_id]) in html
    page = client.get(reverse("archive-unit", args=[lease.unit_id]))
    assert page.status_code == 200 and "一房一档" in page.content.decode()


def test_another_countys_files_do_not_exist_for_a_county_clerk(client, cast):
    lease = _lease_outside(cast)
    client.force_login(cast.users["district"])
    assert client.get(reverse("archive-household", args=[lease.household_id])).status_code == 404
    assert client.get(reverse("archive-unit", args=[lease.unit_id])).status_code == 404
    foreign = _document_only_outside(cast)
    assert client.get(reverse("archive-file", args=[foreign])).status_code == 404
    assert client.get(reverse("archive-file-log", args=[foreign])).status_code == 404
    found = client.get(reverse("archives"), {"q": lease.household.public_key})
    assert reverse("archive-household", args=[lease.household_id]) not in found.content.decode()
    other_estate = {"estate": lease.unit.building.estate_id}
    assert "请选择您辖区内的项目" in client.get(reverse("archives"), other_estate).content.decode()
    assert not FileAccess.objects.filter(document_id=foreign).exists()


def test_every_view_and_download_is_logged(client, cast):
    lease = _lease_in(cast.users["district"])
    client.force_login(cast.users["district"])
    url = reverse("archive-file", args=[lease.draft_id])
    shown = client.get(url, REMOTE_ADDR="10.1.2.3")
    assert shown.status_code == 200 and shown.content.startswith(b"%PDF")
    assert shown["Content-Disposition"].startswith("inline")
    saved = client.get(url, {"download": "1"})
    assert saved["Content-Disposition"].startswith("attachment")
    log = list(FileAccess.objects.filter(document_id=lease.draft_id).order_by("pk"))
    assert [(a.user, a.way) for a in log] == [
        (cast.users["district"], "view"),
        (cast.users["district"], "download"),
    ]
    assert log[0].ip == "10.1.2.3" and log[0].path == url
    page = client.get(reverse("archive-file-log", args=[lease.draft_id])).content.decode()
    assert "10.1.2.3" in page and "下载" in page


def test_the_file_log_cannot_be_rewritten(client, cast):
    lease = _lease_in(cast.users["district"])
    client.force_login(cast.users["district"])
    client.get(reverse("archive-file", args=[lease.draft_id]))
    with pytest.raises(DatabaseError), transaction.atomic():
        FileAccess.objects.filter(document_id=lease.draft_id).update(ip="127.0.0.1")
    with pytest.raises(DatabaseError), transaction.atomic():
        FileAccess.objects.filter(document_id=lease.draft_id).delete()


def test_the_lease_pdf_pages_log_their_readers_too(client, cast):
    lease = _lease_in(cast.users["district"])
    client.force_login(cast.users["district"])
    client.get(reverse("contract-pdf", args=[lease.pk]))
    access = FileAccess.objects.get(document_id=lease.signed_id or lease.draft_id)
    assert access.user == cast.users["district"] and access.way == "view"


def test_a_household_file_page_keeps_to_a_fixed_number_of_queries(
    client, cast, django_assert_max_num_queries
):
    household = Household.objects.filter(contracts__isnull=False).first()
    client.force_login(cast.users["city"])
    with django_assert_max_num_queries(30):
        response = client.get(reverse("archive-household", args=[household.pk]))
    assert response.status_code == 200
