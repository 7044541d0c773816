"""档案批量下载 (issue 15 point 4): a clerk's ZIP opens, its manifest's hashes match its files,
each folder carries its 索引.pdf and documents; another county's files cannot be included; the
limits stop a batch cleanly; the link is the requester's alone and dies at its expiry."""

import hashlib
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from archive.models import FileAccess
from insights import batches, dossiers
from insights.models import BatchDownload
from tenancy.models import Contract
from tests.personas import make_staff

pytestmark = pytest.mark.django_db
TASK = "insights.tasks.build_batch_zip"


def _leases_in(county, n: int = 2) -> list[Contract]:
    """Leases of units in the county held by households of the county (with stored PDFs)."""
    return list(
        Contract.objects.filter(unit__building__estate__district=county, household__county=county)
        .select_related("household", "unit__building__estate")
        .order_by("pk")[:n]
    )


def _lease_outside(county) -> Contract:
    return (
        Contract.objects.exclude(unit__building__estate__district=county)
        .exclude(household__county=county)
        .select_related("household", "unit__building__estate")
        .order_by("pk")
        .first()
    )


def _jobs() -> int:
    return ProcrastinateJob.objects.filter(task_name=TASK).count()


def _built(user, **choice) -> BatchDownload:
    """Resolve, request (the job is queued) and run the job here, as the worker would."""
    selection = batches.resolve(user, **choice)
    queued = _jobs()
    batch = batches.request_batch(selection, actor=user)
    assert _jobs() == queued + 1, "the job is queued with the request"
    batches.build(batch.pk)
    batch.refresh_from_db()
    return batch


def _members(batch: BatchDownload) -> dict[str, bytes]:
    with zipfile.ZipFile(batches.zip_file(batch)) as archive:
        assert archive.testzip() is None
        return {info.filename: archive.read(info) for info in archive.infolist()}


def test_a_clerk_builds_a_zip_whose_manifest_matches_every_file(client, cast):
    clerk = cast.users["district"]
    county = clerk.staff_profile.region
    first, second = _leases_in(county)
    unit = second.unit
    by_text = (
        f"{unit.building.estate.name}/{unit.building.number.removesuffix('号楼')}/{unit.number}"
    )
    batch = _built(
        clerk,
        unit_lines=f"{first.unit_id}\n\n{by_text}\n",
        household_lines=first.household.public_key.lower(),
    )
    assert batch.status == BatchDownload.Status.DONE, batch.error
    assert batch.done_folders == batch.total_folders == 3
    path = batches.zip_file(batch)
    assert path.parent == Path(settings.MEDIA_ROOT) / "batches" and path.suffix == ".zip"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == batch.zip_sha256
    assert not list(path.parent.glob("*.part"))

    members = _members(batch)
    manifest = members.pop("manifest.sha256").decode().splitlines()
    listed = {name: sha for sha, name in (line.split("  ", 1) for line in manifest)}
    assert set(listed) == set(members), "the manifest lists every file, and only those"
    for name, content in members.items():
        assert hashlib.sha256(content).hexdigest() == listed[name], name

    folders = {name.split("/")[0] for name in members}
    household_folder = f"家庭_{first.household.public_key}"
    assert household_folder in folders
    assert any(f.startswith("房屋_") and unit.number in f for f in folders)
    assert len(folders) == 3
    for folder in folders:
        assert members[f"{folder}/索引.pdf"].startswith(b"%PDF")
    expected = dossiers.household_dossier(first.household_id)
    in_folder = {
        hashlib.sha256(content).hexdigest()
        for name, content in members.items()
        if name.startswith(household_folder + "/") and not name.endswith("索引.pdf")
    }
    assert expected.files and in_folder == {f.document.sha256 for f in expected.files}
    assert first.draft_id in in_folder

    documents = [n for n in members if not n.endswith("/索引.pdf")]
    logged = FileAccess.objects.filter(user=clerk, way=FileAccess.Way.BATCH)
    assert logged.count() == len(documents)
    assert set(logged.values_list("document_id", flat=True)) == {listed[n] for n in documents}

    client.force_login(clerk)
    response = client.get(reverse("archive-batch-download", args=[batch.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert b"".join(response.streaming_content) == path.read_bytes()


def test_another_countys_units_and_households_are_named_and_nothing_is_queued(client, cast):
    clerk = cast.users["district"]
    county = clerk.staff_profile.region
    (mine,) = _leases_in(county, 1)
    theirs = _lease_outside(county)
    with pytest.raises(batches.BatchError) as refused:
        batches.resolve(
            clerk,
            estate_ids=[theirs.unit.building.estate_id],
            unit_lines=f"{mine.unit_id}\n{theirs.unit_id}",
            household_lines=theirs.household.public_key,
        )
    text = str(refused.value)
    assert str(theirs.unit_id) in text and theirs.household.public_key in text
    assert str(theirs.unit.building.estate_id) in text and "管辖范围" in text

    before = (BatchDownload.objects.count(), _jobs())
    client.force_login(clerk)
    page = client.post(
        reverse("archive-batches"),
        {"units": str(mine.unit_id), "households": theirs.household.public_key},
    )
    assert page.status_code == 200
    assert f"公示编号“{theirs.household.public_key}”不存在或不在您的管辖范围内" in (
        page.content.decode()
    )
    assert (BatchDownload.objects.count(), _jobs()) == before

    # The same request inside the county is accepted and queued.
    page = client.post(reverse("archive-batches"), {"households": mine.household.public_key})
    assert page.status_code == 302
    assert (BatchDownload.objects.count(), _jobs()) == (before[0] + 1, before[1] + 1)


def test_a_batch_over_the_limits_stops_cleanly(cast, settings):
    clerk = cast.users["district"]
    leases = _leases_in(clerk.staff_profile.region, 3)
    settings.ANJU_BATCH_MAX_FOLDERS = 2
    estate = leases[0].unit.building.estate_id  # an estate of more than two units
    with pytest.raises(batches.BatchError, match="超过每次最多 2 个"):
        batches.resolve(clerk, estate_ids=[estate])
    with pytest.raises(batches.BatchError, match="超过 2 行"):
        batches.resolve(clerk, unit_lines="\n".join(str(c.unit_id) for c in leases))

    settings.ANJU_BATCH_MAX_BYTES = 20_000  # less than one folder's index and lease
    logged = FileAccess.objects.filter(way=FileAccess.Way.BATCH).count()
    batch = _built(clerk, household_lines=leases[0].household.public_key)
    assert batch.status == BatchDownload.Status.FAILED
    assert "大小限制" in batch.error and not batch.zip_path
    assert not list((Path(settings.MEDIA_ROOT) / "batches").glob(f"{batch.pk}-*"))
    assert FileAccess.objects.filter(way=FileAccess.Way.BATCH).count() == logged


def test_the_link_is_the_requesters_and_answers_410_after_expiry(client, cast):
    clerk = cast.users["district"]
    (lease,) = _leases_in(clerk.staff_profile.region, 1)
    batch = _built(clerk, unit_lines=str(lease.unit_id))
    url = reverse("archive-batch-download", args=[batch.pk])
    status_url = reverse("archive-batch-status", args=[batch.pk])

    # Another staff member, even the city above the county, cannot fetch it or see its state.
    client.force_login(cast.users["city"])
    assert client.get(url).status_code == 404
    assert client.get(status_url).status_code == 404
    colleague = make_staff("b-colleague", "district", region=clerk.staff_profile.region)
    client.force_login(colleague)
    assert client.get(url).status_code == 404
    assert f'id="batch-{batch.pk}"' not in client.get(reverse("archive-batches")).content.decode()

    client.force_login(clerk)
    state = client.get(status_url).json()
    assert state["status"] == "done" and state["percent"] == 100 and state["download"] == url

    BatchDownload.objects.filter(pk=batch.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    gone = client.get(url)
    assert gone.status_code == 410 and "已过期" in gone.content.decode()
    assert client.get(status_url).json()["download"] == ""
    path = batches.zip_file(batch)
    assert path.exists()
    assert batches.expire_batches() >= 1
    batch.refresh_from_db()
    assert batch.status == BatchDownload.Status.EXPIRED and not path.exists()
    assert client.get(url).status_code == 410


def test_the_page_shows_ones_batches_with_progress_in_constant_queries(client, cast):
    clerk = cast.users["district"]
    client.force_login(clerk)

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            page = client.get(reverse("archive-batches"))
        assert page.status_code == 200
        return len(seen)

    BatchDownload.objects.create(requested_by=clerk, total_folders=4, done_folders=1)
    one = queries()
    for n in range(5):
        BatchDownload.objects.create(requested_by=clerk, total_folders=4, done_folders=n % 4)
    assert queries() == one, "no query per batch"
    html = client.get(reverse("archive-batches")).content.decode()
    assert html.count("<progress") == 6 and 'value="25"' in html
    assert "backoffice/batch-progress.js" in html and "data-status-url" in html
    assert 'name="estates"' in html


def test_a_zip_written_by_the_job_holds_only_what_the_store_holds(cast, settings):
    """A stored file changed on disk stops the batch: a ZIP never carries a forged document."""
    from archive.documents import path_of

    clerk = cast.users["district"]
    (lease,) = _leases_in(clerk.staff_profile.region, 1)
    stored = path_of(lease.draft_id)
    original = stored.read_bytes()
    try:
        stored.write_bytes(original + b"tampered")
        batch = _built(clerk, unit_lines=str(lease.unit_id))
    finally:
        stored.write_bytes(original)
    assert batch.status == BatchDownload.Status.FAILED and "哈希不符" in batch.error
    assert not list((Path(settings.MEDIA_ROOT) / "batches").glob(f"{batch.pk}-*"))
