"""The repair pages as people use them: a tenant reports from /my/ with photos (limits,
metadata stripped, refusals naming the file, nothing half-saved), the operator works the queue
in /staff/operations/repairs/, and nobody reaches a repair outside their own reach (404)."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from archive import documents
from archive.models import Document
from backoffice.repairs import pending_tasks
from geo.models import Unit
from tenancy import demo_repairs
from tenancy.models import Repair, RepairPhoto
from tenancy.models.repairs import MAX_PHOTOS
from tenancy.repair_selectors import overdue_q
from tenancy.services import repairs
from tests.tenancy.test_repairs_support import GPS_IFD, as_tenant, gps_jpeg, png, reported, site

pytestmark = pytest.mark.django_db

STAFF = "/staff/operations/repairs/"


def _upload(name: str, data: bytes, kind: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=kind)


def _report(client, s, photos, description="厨房水管漏水"):
    return client.post(
        "/my/repairs/new/",
        {
            "contract": s.contract.pk,
            "category": "urgent",
            "description": description,
            "photos": photos,
        },
    )


def test_a_tenant_reports_with_photos_whose_location_is_stripped(client):
    s = site()
    as_tenant(client, s.household)
    mine = client.get("/my/").content.decode()
    assert "/my/repairs/" in mine
    form = client.get("/my/repairs/new/").content.decode()
    assert f"最多 {MAX_PHOTOS} 张照片" in form and 'accept="image/jpeg' in form
    response = _report(client, s, [_upload("IMG_0001.jpg", gps_jpeg()), _upload("b.png", png())])
    repair = Repair.objects.filter(household=s.household).latest("pk")
    assert response.status_code == 302 and response.url == f"/my/repairs/{repair.pk}/"
    photos = list(repair.photos.select_related("document"))
    assert len(photos) == 2
    for photo in photos:
        stored = documents.read(photo.document)
        image = Image.open(io.BytesIO(stored))
        assert image.format == "JPEG" and not image.getexif()
        assert b"Exif" not in stored and b"AnjuTestPhone" not in stored
    page = client.get(f"/my/repairs/{repair.pk}/").content.decode()
    url = f"/my/repairs/{repair.pk}/photos/{photos[0].pk}/"
    assert url in page
    served = client.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    assert not Image.open(io.BytesIO(served.content)).getexif().get_ifd(GPS_IFD)


def test_a_non_image_is_refused_by_name_and_nothing_is_kept(client):
    s = site()
    as_tenant(client, s.household)
    before = (Repair.objects.count(), Document.objects.count(), RepairPhoto.objects.count())
    response = _report(
        client,
        s,
        [
            _upload("good.jpg", gps_jpeg()),
            _upload("合同扫描.pdf", b"%PDF-1.7 not a photo", "image/jpeg"),
        ],
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "合同扫描.pdf" in page and "field-error" in page
    assert (Repair.objects.count(), Document.objects.count(), RepairPhoto.objects.count()) == before


def test_too_many_or_too_large_photos_are_refused_before_anything_is_kept(client):
    s = site()
    as_tenant(client, s.household)
    before = (Repair.objects.count(), Document.objects.count())
    seven = [_upload(f"p{i}.png", png()) for i in range(MAX_PHOTOS + 1)]
    response = _report(client, s, seven)
    assert (
        response.status_code == 400 and f"最多上传 {MAX_PHOTOS} 张照片" in response.content.decode()
    )
    big = _upload("huge.jpg", b"\xff\xd8" + b"0" * (9 * 1024 * 1024))
    response = _report(client, s, [big])
    assert response.status_code == 400 and "huge.jpg" in response.content.decode()
    # Over the whole request's limit: refused from its length, before reading the files.
    chunks = [_upload(f"c{i}.jpg", b"0" * (7 * 1024 * 1024)) for i in range(3)]
    response = _report(client, s, chunks)
    assert response.status_code == 413 and "上传内容过大" in response.content.decode()
    assert (Repair.objects.count(), Document.objects.count()) == before


def test_the_tenant_confirms_or_reopens_from_my(client):
    s = site()
    repair = reported(s)
    repairs.assign(repair.pk, actor=s.operator, assignee_name="水电班组")
    repairs.close(repair.pk, actor=s.operator, note="已换阀门")
    as_tenant(client, s.household)
    page = client.get(f"/my/repairs/{repair.pk}/").content.decode()
    assert "已完工，待您确认" in page and "已换阀门" in page
    empty = client.post(f"/my/repairs/{repair.pk}/reopen/", {"reason": ""})
    assert empty.status_code == 400 and "请说明哪里还没有修好" in empty.content.decode()
    client.post(f"/my/repairs/{repair.pk}/reopen/", {"reason": "还在漏"})
    assert Repair.objects.get(pk=repair.pk).status == Repair.Status.ASSIGNED
    repairs.close(repair.pk, actor=s.operator, note="再次维修")
    client.post(f"/my/repairs/{repair.pk}/confirm/")
    assert Repair.objects.get(pk=repair.pk).status == Repair.Status.CONFIRMED


def test_a_tenant_sees_only_their_own_repairs(client):
    s, other = site(), site(skip=1)
    repair = reported(s, photos=[("a.jpg", gps_jpeg())])
    photo = repair.photos.get()
    theirs = reported(other)
    as_tenant(client, other.household)
    listing = client.get("/my/repairs/").content.decode()
    assert theirs.number in listing and repair.number not in listing
    for url in (
        f"/my/repairs/{repair.pk}/",
        f"/my/repairs/{repair.pk}/photos/{photo.pk}/",
        f"/my/repairs/{theirs.pk}/photos/{photo.pk}/",  # a photo of another repair
    ):
        assert client.get(url).status_code == 404, url
    for url in (f"/my/repairs/{repair.pk}/confirm/", f"/my/repairs/{repair.pk}/reopen/"):
        assert client.post(url, {"reason": "x"}).status_code == 404, url
    count = Repair.objects.count()
    for_someone_else = _report(client, s, [])  # s's lease, posted by the other tenant
    assert for_someone_else.status_code == 400 and Repair.objects.count() == count
    client.logout()
    assert client.get("/my/repairs/").status_code == 302  # signed out: to sign in


def test_the_operator_works_a_repair_through_the_staff_pages(client):
    s = site()
    repair = reported(s, photos=[("a.jpg", gps_jpeg())])
    photo = repair.photos.get()
    client.force_login(s.operator)
    queue = client.get(STAFF).content.decode()
    assert repair.number in queue
    page = client.get(f"{STAFF}{repair.pk}/").content.decode()
    assert repair.description in page and f"{STAFF}{repair.pk}/photos/{photo.pk}/" in page
    assert client.get(f"{STAFF}{repair.pk}/photos/{photo.pk}/")["Content-Type"] == "image/jpeg"
    bad = client.post(f"{STAFF}{repair.pk}/assign/", {"assignee_name": ""})
    assert bad.status_code == 400 and "请填写维修人员或班组" in bad.content.decode()
    client.post(f"{STAFF}{repair.pk}/assign/", {"assignee_name": "水电班组"})
    visit = timezone.localtime() + timedelta(days=1)
    client.post(f"{STAFF}{repair.pk}/schedule/", {"visit_at": visit.strftime("%Y-%m-%dT%H:%M")})
    refused = client.post(
        f"{STAFF}{repair.pk}/close/",
        {"note": "已修", "photos": [_upload("x.txt", b"hello", "text/plain")]},
    )
    assert refused.status_code == 400 and "x.txt" in refused.content.decode()
    assert Repair.objects.get(pk=repair.pk).status == Repair.Status.SCHEDULED
    heavy = [_upload(f"c{i}.jpg", b"0" * (7 * 1024 * 1024)) for i in range(3)]
    refused = client.post(f"{STAFF}{repair.pk}/close/", {"note": "已修", "photos": heavy})
    assert refused.status_code == 302
    assert Repair.objects.get(pk=repair.pk).status == Repair.Status.SCHEDULED
    assert "上传内容过大" in client.get(refused.url).content.decode()
    done = client.post(
        f"{STAFF}{repair.pk}/close/", {"note": "已修", "photos": [_upload("after.png", png())]}
    )
    assert done.status_code == 302
    repair.refresh_from_db()
    assert repair.status == Repair.Status.CLOSED and repair.photos.count() == 2
    timeline = client.get(f"{STAFF}{repair.pk}/").content.decode()
    assert "派单给 水电班组" in timeline and "预约上门" in timeline and "完工" in timeline


def test_staff_open_a_repair_for_a_vacant_unit_from_the_back_office(client):
    s = site()
    unit = (
        Unit.objects.filter(building__estate=s.estate, status=Unit.Status.VACANT)
        .select_related("building")
        .first()
        or Unit.objects.visible_to(s.operator)
        .filter(status=Unit.Status.VACANT)
        .select_related("building__estate")
        .first()
    )
    client.force_login(s.operator)
    data = {
        "estate": unit.building.estate_id,
        "building": unit.building.number,
        "unit": "不存在",
        "category": "leak",
        "description": "空置房渗水",
    }
    missing = client.post(f"{STAFF}new/", data)
    assert missing.status_code == 400 and "没有" in missing.content.decode()
    made = client.post(f"{STAFF}new/", data | {"unit": unit.number})
    repair = Repair.objects.get(unit=unit, source=Repair.Source.STAFF)
    assert made.url == f"{STAFF}{repair.pk}/"
    assert Unit.objects.get(pk=unit.pk).status == Unit.Status.REPAIR
    client.force_login(s.other_operator)
    outside = client.post(f"{STAFF}new/", data | {"unit": unit.number})
    assert outside.status_code == 400  # the estate is not among the choices
    assert Repair.objects.filter(unit=unit).count() == 1


def test_no_staff_page_of_a_repair_outside_the_jurisdiction(client):
    s = site()
    repair = reported(s, photos=[("a.jpg", gps_jpeg())])
    photo = repair.photos.get()
    for outsider in (s.other_operator, s.other_county):
        client.force_login(outsider)
        assert repair.number not in client.get(STAFF + "?status=all").content.decode()
        assert client.get(f"{STAFF}{repair.pk}/").status_code == 404
        assert client.get(f"{STAFF}{repair.pk}/photos/{photo.pk}/").status_code == 404
        for step in ("assign", "schedule", "close"):
            response = client.post(
                f"{STAFF}{repair.pk}/{step}/",
                {"assignee_name": "x", "visit_at": "2030-01-01T09:00", "note": "x"},
            )
            assert response.status_code == 404, step
    assert Repair.objects.get(pk=repair.pk).status == Repair.Status.REPORTED
    client.force_login(s.county)
    assert client.get(f"{STAFF}{repair.pk}/").status_code == 200
    client.logout()
    assert client.get(STAFF).status_code == 302
    as_tenant(client, s.household)  # a resident is no staff member
    assert client.get(f"{STAFF}{repair.pk}/").status_code == 302


def test_the_queue_filters_flags_overdue_and_exports_without_formulas(
    client, django_assert_max_num_queries
):
    s = site()
    made = [reported(s, category=c) for c in ("urgent", "general", "leak", "doors")]
    made.append(reported(s, category="general"))
    late = made[0]

    def overdue_count(user) -> int:
        return {str(t.label): t.count for t in pending_tasks(user)}["已超时的维修"]

    counts = (overdue_count(s.operator), overdue_count(s.other_operator))
    Repair.objects.filter(pk=late.pk).update(respond_by=timezone.now() - timedelta(hours=1))
    Repair.objects.filter(pk=made[1].pk).update(description="=HYPERLINK(1)")
    client.force_login(s.operator)
    with django_assert_max_num_queries(10):
        page = client.get(STAFF).content.decode()
    assert all(r.number in page for r in made)
    assert 'class="late"' in page
    overdue = client.get(STAFF + "?overdue=1").content.decode()
    assert late.number in overdue and made[1].number not in overdue
    leak = client.get(STAFF + "?category=leak").content.decode()
    assert made[2].number in leak and made[3].number not in leak
    estate = client.get(f"{STAFF}?estate={s.estate.pk}&status=all").content.decode()
    assert made[4].number in estate
    csv = client.get(STAFF + "?format=csv").content.decode("utf-8-sig")
    assert late.number in csv and "'=HYPERLINK(1)" in csv
    assert client.get(STAFF + "?format=xlsx")["Content-Type"].startswith("application/vnd")
    assert (overdue_count(s.operator), overdue_count(s.other_operator)) == (
        counts[0] + 1,
        counts[1],
    )
    tasks = {str(t.label): t for t in pending_tasks(s.operator)}
    assert tasks["已超时的维修"].urgent and tasks["待派单的维修"].count >= 5
    listed = client.get(tasks["已超时的维修"].url).content.decode()
    assert late.number in listed


def test_the_demo_makes_repairs_in_every_state():
    if not Repair.objects.exists():  # (unless load_demo made them already)
        summary = demo_repairs.load(timezone.localdate())
        assert "条维修工单" in summary
    assert "未重复生成" in demo_repairs.load(timezone.localdate())
    statuses = set(Repair.objects.values_list("status", flat=True))
    assert statuses == set(Repair.Status.values)
    assert Repair.objects.filter(reopen_count__gt=0).exists()
    assert RepairPhoto.objects.exists()
    assert Repair.objects.filter(overdue_q(timezone.now())).exists()
    assert Unit.objects.filter(status=Unit.Status.REPAIR, repairs__source="staff").exists()
