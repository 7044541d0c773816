"""The contract pages as people use them: the tenant reads and confirms on /my/, the operator
generates, approves and hands over keys in /staff/contracts/, anyone checks a PDF on /verify/."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from archive import documents
from archive.models import Event
from geo.models import Unit
from housing.models import Applicant, InboxMessage, SmsMessage
from tenancy.models import Contract, LeaseTemplate
from tenancy.services import contracts
from tests.personas import make_staff
from tests.tenancy.conftest import START

pytestmark = pytest.mark.django_db


def _as_tenant(client, household) -> None:
    session = client.session
    session["applicant_id"] = household.applicant_id
    session.save()


def _code(phone: str) -> str:
    return (
        SmsMessage.objects.filter(phone=phone).order_by("-pk").first().text.split("验证码 ")[1][:6]
    )


def test_the_operator_generates_the_tenant_confirms_the_operator_signs_and_hands_over(
    client, offer, operator_staff, django_capture_on_commit_callbacks
):
    client.force_login(operator_staff)
    listing = client.get("/staff/contracts/?tab=offers").content.decode()
    assert offer.household.head_name in listing
    page = client.get(f"/staff/contracts/offers/{offer.pk}/new/")
    assert page.status_code == 200
    bad = client.post(
        f"/staff/contracts/offers/{offer.pk}/new/", {"start": "2027-13-01", "months": 12}
    )
    assert bad.status_code == 200 and "field-error" in bad.content.decode()
    too_long = client.post(
        f"/staff/contracts/offers/{offer.pk}/new/", {"start": START.isoformat(), "months": 48}
    )
    assert "租期须在 1 到 36 个月之间" in too_long.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        made = client.post(
            f"/staff/contracts/offers/{offer.pk}/new/", {"start": START.isoformat(), "months": 24}
        )
    contract = Contract.objects.get(offer=offer)
    assert made.url == f"/staff/contracts/{contract.pk}/"
    assert SmsMessage.objects.filter(phone=offer.household.phone, text__contains=contract.number)

    _as_tenant(client, offer.household)
    mine = client.get("/my/").content.decode()
    assert contract.number in mine and "阅读并确认签署" in mine
    pdf = client.get(f"/my/contracts/{contract.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content[:5] == b"%PDF-"
    client.post(f"/my/contracts/{contract.pk}/code/")
    wrong = client.post(f"/my/contracts/{contract.pk}/confirm/", {"code": "000000", "agree": "on"})
    assert wrong.status_code == 400 and "验证码不正确" in wrong.content.decode()
    unticked = client.post(
        f"/my/contracts/{contract.pk}/confirm/", {"code": _code(offer.household.phone)}
    )
    assert "请先阅读合同并勾选同意" in unticked.content.decode()
    client.post(
        f"/my/contracts/{contract.pk}/confirm/",
        {"code": _code(offer.household.phone), "agree": "on"},
    )
    contract.refresh_from_db()
    assert contract.status == Contract.Status.AWAITING_APPROVAL

    client.force_login(operator_staff)
    client.post(f"/staff/contracts/{contract.pk}/approve/")
    client.post(f"/staff/contracts/{contract.pk}/move-in/", {"day": START.isoformat()})
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
    assert Unit.objects.get(pk=offer.unit_id).status == Unit.Status.OCCUPIED
    detail = client.get(f"/staff/contracts/{contract.pk}/").content.decode()
    assert contract.signed_id in detail and "履行中" in detail


def test_a_contract_is_shown_only_to_its_household(client, offer, operator_staff):
    contract = contracts.draft(offer.pk, start=START, months=12, actor=operator_staff)
    stranger = Applicant.objects.create(phone="13700007001")
    session = client.session
    session["applicant_id"] = stranger.pk
    session.save()
    assert client.get(f"/my/contracts/{contract.pk}/").status_code == 404
    assert client.get(f"/my/contracts/{contract.pk}/pdf/").status_code == 404


def test_streets_see_but_do_not_sign(client, offer, operator_staff):
    contract = contracts.draft(offer.pk, start=START, months=12, actor=operator_staff)
    estate = offer.unit.building.estate
    street = make_staff("t-street", "street", region=estate.street)
    client.force_login(street)
    assert client.get(f"/staff/contracts/{contract.pk}/").status_code == 200
    assert client.post(f"/staff/contracts/{contract.pk}/approve/").status_code == 403


def test_verify_says_intact_altered_or_not_a_pdf(
    client, offer, operator_staff, django_capture_on_commit_callbacks
):
    contract = contracts.draft(offer.pk, start=START, months=12, actor=operator_staff)
    contracts.send_confirmation_code(contract, ip=None)
    contracts.confirm(
        contract.pk,
        contracts.Confirming(offer.household.applicant, _code(offer.household.phone), None),
    )
    contract = contracts.approve(contract.pk, actor=operator_staff)
    signed = documents.read(contract.signed)

    ok = client.post("/verify/", {"pdf": SimpleUploadedFile("c.pdf", signed)}).content.decode()
    assert "签章有效" in ok and contract.number in ok and "完全一致" in ok
    at = signed.index(b"/Producer")
    altered = signed[:at] + b"/Producxr" + signed[at + 9 :]
    bad = client.post("/verify/", {"pdf": SimpleUploadedFile("c.pdf", altered)}).content.decode()
    assert "签章无效或文件已被改动" in bad and "签章后文件内容已被改动" in bad
    unsigned = documents.read(contract.draft)
    plain = client.post("/verify/", {"pdf": SimpleUploadedFile("d.pdf", unsigned)})
    assert "该 PDF 没有电子签章" in plain.content.decode()
    text = client.post("/verify/", {"pdf": SimpleUploadedFile("x.pdf", b"hello")})
    assert text.status_code == 400 and "该文件不是 PDF" in text.content.decode()


def test_county_staff_keep_versioned_templates_and_unknown_placeholders_are_refused(client, offer):
    county = offer.household.county
    clerk = make_staff("t-county", "district", region=county)
    client.force_login(clerk)
    before = LeaseTemplate.objects.filter(county=county).count()
    base = LeaseTemplate.objects.filter(county=county).order_by("-version").first().version
    url = f"/staff/contracts/templates/{county.pk}/"
    wrong = client.post(
        url,
        {
            "title": "合同",
            "body": "<p>{{ tenant_nmae }}</p>",
            "reason": "改错字",
            "base_version": base,
        },
    )
    assert "未知的占位符：tenant_nmae" in wrong.content.decode()
    good = {"title": "合同（2027 版）", "body": "<p>{{ tenant_name }} 承租 {{ unit_address }}</p>"}
    no_reason = client.post(url, {**good, "base_version": base})
    assert "请填写修改原因" in no_reason.content.decode()
    assert LeaseTemplate.objects.filter(county=county).count() == before
    saved = client.post(url, {**good, "reason": "按 2027 年新规修订", "base_version": base})
    assert saved.status_code == 302
    assert LeaseTemplate.objects.filter(county=county).count() == before + 1
    newest = LeaseTemplate.objects.filter(county=county).order_by("-version").first()
    assert newest.title == "合同（2027 版）" and newest.version == base + 1
    event = Event.objects.filter(action="lease_template.saved").latest("id")
    assert event.reason == "按 2027 年新规修订" and event.after["version"] == base + 1
    # A colleague who opened the old version and saves later is told, not laid over it.
    stale = client.post(
        url, {**good, "title": "旧稿", "reason": "另一处修改", "base_version": base}
    )
    assert stale.status_code == 200
    assert f"已被他人保存为第 {base + 1} 版" in stale.content.decode()
    assert LeaseTemplate.objects.filter(county=county).count() == before + 1
    tampered = client.post(url, {**good, "reason": "改", "base_version": "abc"})
    assert "页面已过期，请重新打开合同范本后再修改" in tampered.content.decode()
    operator = make_staff("t-op2", "operator", operator=offer.unit.building.estate.operator)
    client.force_login(operator)
    assert client.get(f"/staff/contracts/templates/{county.pk}/").status_code == 404


def test_a_wrong_lease_is_cancelled_with_a_reason_and_its_offer_gets_a_corrected_one(
    client, offer, operator_staff
):
    first = contracts.draft(offer.pk, start=START, months=12, actor=operator_staff)
    client.force_login(operator_staff)
    detail = client.get(f"/staff/contracts/{first.pk}/").content.decode()
    assert "作废合同" in detail and "生成租赁合同" in detail  # the timeline shows the draft
    no_reason = client.post(f"/staff/contracts/{first.pk}/cancel/", {"reason": " "}, follow=True)
    assert "请填写作废原因" in no_reason.content.decode()
    first.refresh_from_db()
    assert first.status == Contract.Status.AWAITING_TENANT

    client.post(f"/staff/contracts/{first.pk}/cancel/", {"reason": "租期开始日期填错"})
    first.refresh_from_db()
    assert first.status == Contract.Status.CANCELLED and first.offer_id is None
    assert "租期开始日期填错" in client.get(f"/staff/contracts/{first.pk}/").content.decode()
    assert offer.household.head_name in client.get("/staff/contracts/?tab=offers").content.decode()
    again = contracts.draft(offer.pk, start=START, months=24, actor=operator_staff)
    assert again.number != first.number and again.status == Contract.Status.AWAITING_TENANT
    assert InboxMessage.objects.filter(
        applicant=offer.household.applicant, subject=f"租赁合同 {first.number} 已作废"
    ).exists()


def test_a_lease_in_force_is_not_cancelled_and_streets_cannot_cancel(client, offer, operator_staff):
    contract = contracts.draft(offer.pk, start=START, months=12, actor=operator_staff)
    street = make_staff("t-street-c", "street", region=offer.unit.building.estate.street)
    client.force_login(street)
    assert (
        client.post(f"/staff/contracts/{contract.pk}/cancel/", {"reason": "试图作废"}).status_code
        == 403
    )
    Contract.objects.filter(pk=contract.pk).update(status=Contract.Status.ACTIVE)
    client.force_login(operator_staff)
    page = client.post(
        f"/staff/contracts/{contract.pk}/cancel/", {"reason": "试图作废"}, follow=True
    ).content.decode()
    assert "不能作废" in page and "作废合同" not in page
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
