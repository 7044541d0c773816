"""Evidence files: a manual proposal, an objection and a repair (online or at the counter) and a
repair decision take PDFs and photos; staff of the deciding county open them from the proposal
and record pages, every view is logged, nobody else gets them; a wrong type or a file too big
is refused naming the field, and nothing of the step is written."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from archive.models import Document, FileAccess
from credit import evidence, services
from credit.models import Conduct, Proposal, Repair
from geo.models import Region
from housing.models import Applicant, Application, Household
from housing.views import SESSION_KEY
from portal.management.commands.load_demo import CREDIT_BLOCKED_PHONE
from tests.personas import make_staff

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def png(colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def county():
    return Region.objects.get(adcode="341602")


@pytest.fixture
def clerk(county):
    return make_staff("evidence-clerk", "district", region=county)


def _report(client, county, files):
    household = Household.objects.filter(county=county).order_by("-pk").first()
    return client.post(
        "/staff/credit/proposals/new/",
        {
            "kind": "person",
            "name": household.head_name,
            "number": household.head_id_number,
            "conduct": Conduct.objects.get(code="idle").pk,
            "county": county.pk,
            "facts": "水电读数连续 8 个月为零，走访无人。",
            "files": files,
        },
        follow=True,
    )


def _links(proposal: Proposal) -> list[str]:
    return [
        f"/staff/credit/proposals/{proposal.pk}/files/{f['file']}/"
        for f in evidence.files_of(proposal.evidence)
    ]


def test_a_manual_proposal_keeps_its_files_and_only_the_county_opens_them(client, county, clerk):
    client.force_login(clerk)
    before = Proposal.objects.count()
    page = _report(
        client,
        county,
        [
            SimpleUploadedFile("走访记录.pdf", PDF, "application/pdf"),
            SimpleUploadedFile("现场.png", png(), "image/png"),
        ],
    ).content.decode()
    assert Proposal.objects.count() == before + 1
    proposal = Proposal.objects.latest("pk")
    files = evidence.files_of(proposal.evidence)
    assert [f["content_type"] for f in files] == ["application/pdf", "image/jpeg"]
    assert {f["name"] for f in files} == {"走访记录.pdf", "现场.jpg"}
    assert all(Document.objects.filter(sha256=f["file"]).exists() for f in files)
    pdf_link, photo_link = _links(proposal)
    assert pdf_link in page and photo_link in page  # listed on the proposal page

    answer = client.get(pdf_link)
    assert answer.status_code == 200 and answer.content == PDF
    assert answer["Content-Type"] == "application/pdf"
    assert client.get(photo_link).content.startswith(b"\xff\xd8\xff")  # re-encoded
    logged = FileAccess.objects.filter(document_id=files[0]["file"])
    assert logged.count() == 1
    access = logged.get()
    assert (access.user, access.way, access.path) == (clerk, "view", pdf_link)
    client.get(pdf_link)
    assert logged.count() == 2  # every view, not the first one only

    # Another county's department, a street, and a known hash through another proposal: none.
    for outsider in (
        make_staff("evidence-woyang", "district", region=Region.objects.get(adcode="341621")),
        make_staff("evidence-street", "street", region=county.children.first()),
    ):
        client.force_login(outsider)
        assert client.get(pdf_link).status_code == 404
    client.force_login(clerk)
    other = Proposal.objects.filter(county=county).exclude(pk=proposal.pk).first()
    assert (
        client.get(f"/staff/credit/proposals/{other.pk}/files/{files[0]['file']}/").status_code
        == 404
    )
    assert logged.count() == 2


@pytest.mark.parametrize(
    ("upload", "says"),
    [
        (
            lambda: SimpleUploadedFile("说明.pdf", b"just text, not a PDF", "application/pdf"),
            "不是 PDF、JPEG 或 PNG",
        ),
        (
            lambda: SimpleUploadedFile(
                "扫描件.pdf", PDF + b"0" * evidence.MAX_BYTES, "application/pdf"
            ),
            "超过 10 MB",
        ),
        (
            lambda: SimpleUploadedFile("坏图.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png"),
            "不是可以识别的照片",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_the_field_and_nothing_is_saved(
    client, county, clerk, upload, says
):
    client.force_login(clerk)
    proposals, documents = Proposal.objects.count(), Document.objects.count()
    page = _report(
        client, county, [SimpleUploadedFile("好.png", png((0, 90, 0)), "image/png"), upload()]
    ).content.decode()
    assert "证据材料：" in page and says in page
    assert upload().name in page
    assert Proposal.objects.count() == proposals
    assert Document.objects.count() == documents  # not even the good file


def _sign_in(client, applicant: Applicant) -> None:
    session = client.session
    session[SESSION_KEY] = applicant.pk
    session.save()


def test_the_subject_objects_and_asks_for_repair_with_files_that_staff_then_see(client):
    applicant = Applicant.objects.get(phone=CREDIT_BLOCKED_PHONE)
    application = Application.objects.get(applicant=applicant)
    clerk = make_staff("evidence-my-clerk", "district", region=application.county)
    subject = services.person(application.name, application.id_number)
    proposal = services.propose(
        subject=subject,
        conduct_code="refuse-allocation",
        county=application.county,
        source="manual",
        facts="两次无正当理由放弃选房。",
        actor=clerk,
    )
    record = subject.records.get(conduct__code="false-application")
    _sign_in(client, applicant)
    objection = f"/my/credit/proposals/{proposal.pk}/object/"
    refused = client.post(
        objection,
        {"text": "住院期间无法选房。", "files": SimpleUploadedFile("病历.txt", b"hello")},
        follow=True,
    ).content.decode()
    assert "异议材料：" in refused and "病历.txt" in refused
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.NOTIFIED and proposal.evidence == []

    client.post(
        objection,
        {"text": "住院期间无法选房。", "files": SimpleUploadedFile("病历.pdf", PDF)},
    )
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.OBJECTED
    [kept] = evidence.files_of(proposal.evidence)
    assert (kept["step"], kept["by"], kept["name"]) == ("objection", "subject", "病历.pdf")
    # The person sees and opens what they sent (logged as theirs); nobody else can.
    own_link = f"/my/credit/{proposal.pk}/files/{kept['file']}/"
    assert own_link in client.get("/my/").content.decode()
    assert client.get(own_link).content == PDF
    assert FileAccess.objects.get(document_id=kept["file"]).applicant_id == applicant.pk
    _sign_in(client, Applicant.objects.create(phone="13900007777"))
    assert client.get(own_link).status_code == 404
    _sign_in(client, applicant)
    client.post(
        f"/my/credit/records/{record.pk}/repair/",
        {"text": "已如实补报全部房产信息。", "files": SimpleUploadedFile("回执.png", png())},
    )
    repair = Repair.objects.get(record=record, status="pending")
    [asked] = evidence.files_of(repair.evidence)
    assert asked["by"] == "subject" and asked["content_type"] == "image/jpeg"

    client.force_login(clerk)
    record_page = client.get(f"/staff/credit/records/{record.pk}/").content.decode()
    repair_link = f"/staff/credit/proposals/{record.proposal_id}/files/{asked['file']}/"
    assert repair_link in record_page
    assert client.get(repair_link).status_code == 200
    assert FileAccess.objects.filter(document_id=asked["file"], user=clerk).count() == 1
    objection_link = f"/staff/credit/proposals/{proposal.pk}/files/{kept['file']}/"
    assert objection_link in client.get(f"/staff/credit/proposals/{proposal.pk}/").content.decode()

    # The repair decision may keep the county's own findings too.
    client.post(
        f"/staff/credit/records/{record.pk}/repair/refuse/",
        {"text": "补报信息不完整。", "files": SimpleUploadedFile("核查.pdf", PDF + b"%more")},
    )
    repair.refresh_from_db()
    assert repair.status == "refused"
    assert [f["step"] for f in evidence.files_of(repair.evidence)] == ["repair", "repair-decision"]
