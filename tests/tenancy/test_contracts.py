"""A lease from an accepted offer to move-in: Chinese text in the PDF, the tenant's SMS
confirmation, a PAdES signature that pyHanko and poppler's pdfsig both accept, a changed copy
reported as altered, and one live contract per unit even under concurrent attempts."""

import shutil
import subprocess
from datetime import timedelta

import pytest

from archive import documents
from archive.models import Event
from geo.models import Unit
from housing.models import OneTimeCode, SmsMessage
from housing.services import NotAllowed
from tenancy import verification
from tenancy.models import Contract, LeaseTemplate
from tenancy.services import contracts
from tests.tenancy.conftest import START

pytestmark = pytest.mark.django_db


def _text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _code_for(phone: str) -> str:
    text = SmsMessage.objects.filter(phone=phone).order_by("-pk").first().text
    return text.split("验证码 ")[1][:6]


def _signed(offer, operator_staff, django_capture_on_commit_callbacks) -> Contract:
    contract = contracts.draft(offer.pk, start=START, months=36, actor=operator_staff)
    contracts.send_confirmation_code(contract, ip="127.0.0.1")
    code = _code_for(offer.household.phone)
    contracts.confirm(
        contract.pk, contracts.Confirming(offer.household.applicant, code, "127.0.0.1")
    )
    return contracts.approve(contract.pk, actor=operator_staff)


def test_a_draft_is_a_chinese_pdf_with_the_households_and_units_details(
    offer, operator_staff, tmp_path
):
    contract = contracts.draft(offer.pk, start=START, months=36, actor=operator_staff)
    text = _text_of(documents.read(contract.draft), tmp_path)
    assert "公共租赁住房租赁合同" in text and contract.number in text
    assert offer.household.head_name in text and offer.unit.number in text
    assert f"{contract.tenant_rent:,.2f}" in text
    assert contract.end_date == START.replace(year=START.year + 3) - timedelta(days=1)
    assert Event.objects.filter(action="contract.drafted", unit_id=offer.unit_id).exists()


def test_wrong_or_missing_data_is_refused_before_any_pdf(offer, operator_staff):
    with pytest.raises(NotAllowed, match="租期须在 1 到 36 个月之间"):
        contracts.draft(offer.pk, start=START, months=61, actor=operator_staff)
    template = offer.household.county.pk

    LeaseTemplate.objects.create(
        county_id=template, version=100, title="坏范本", body="<p>{{ tenant_nmae }}</p>"
    )
    with pytest.raises(NotAllowed, match="未知的占位符：tenant_nmae"):
        contracts.draft(offer.pk, start=START, months=12, actor=operator_staff)
    assert not Contract.objects.filter(offer=offer).exists()


def test_signed_contract_validates_with_pyhanko_and_pdfsig_and_records_the_confirmation(
    offer, operator_staff, tmp_path, django_capture_on_commit_callbacks
):
    contract = _signed(offer, operator_staff, django_capture_on_commit_callbacks)
    assert contract.status == Contract.Status.SIGNED
    pdf = documents.read(contract.signed)
    text = _text_of(pdf, tmp_path)
    assert "电子签署记录" in text and "短信验证码" in text
    assert contract.draft_id in "".join(text.split())  # the confirmed text's hash, wrapped
    verdict = verification.verify(pdf)
    assert verdict.valid and verdict.archived_copy and verdict.contract == contract
    assert "运营" in verdict.signatures[0].signer or "中心" in verdict.signatures[0].signer
    event = Event.objects.get(action="contract.signed", household_id=offer.household_id)
    assert event.after["sha256"] == contract.signed_id

    path = tmp_path / "signed.pdf"
    path.write_bytes(pdf)
    plain = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid" in plain and "Total document signed" in plain
    if shutil.which("certutil"):  # trust our CA in an NSS database, as a reader's software would
        from django.conf import settings

        nss = tmp_path / "nss"
        nss.mkdir()
        subprocess.run(["certutil", "-N", "-d", f"sql:{nss}", "--empty-password"], check=True)
        subprocess.run(
            [
                "certutil",
                "-A",
                "-d",
                f"sql:{nss}",
                "-n",
                "anju-ca",
                "-t",
                "CT,C,C",
                "-i",
                settings.ANJU_SIGNING_TRUST_ROOTS[0],
            ],
            check=True,
        )
        trusted = subprocess.run(
            ["pdfsig", "-nssdir", f"sql:{nss}", str(path)], capture_output=True, text=True
        ).stdout
        assert "Certificate is Trusted" in trusted


def test_a_pdf_changed_after_signing_is_reported_as_altered(
    offer, operator_staff, tmp_path, django_capture_on_commit_callbacks
):
    contract = _signed(offer, operator_staff, django_capture_on_commit_callbacks)
    pdf = documents.read(contract.signed)
    at = pdf.index(b"/Producer")  # inside the signed byte range
    tampered = pdf[:at] + b"/Producxr" + pdf[at + 9 :]
    verdict = verification.verify(tampered)
    assert not verdict.valid and not verdict.signatures[0].intact
    assert not verdict.archived_copy and verdict.contract == contract  # it claims to be ours
    path = tmp_path / "tampered.pdf"
    path.write_bytes(tampered)
    out = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Signature is Valid" not in out


def test_only_the_tenant_with_the_right_code_confirms(offer, operator_staff):
    contract = contracts.draft(offer.pk, start=START, months=12, actor=operator_staff)
    contracts.send_confirmation_code(contract, ip=None)
    with pytest.raises(NotAllowed, match="验证码不正确"):
        contracts.confirm(
            contract.pk, contracts.Confirming(offer.household.applicant, "000000", None)
        )
    # A sign-in code is not a confirmation code.
    assert OneTimeCode.objects.filter(purpose=f"contract:{contract.pk}").exists()
    with pytest.raises(NotAllowed, match="承租人确认后"):
        contracts.approve(contract.pk, actor=operator_staff)


def test_move_in_occupies_the_unit(offer, operator_staff, django_capture_on_commit_callbacks):
    contract = _signed(offer, operator_staff, django_capture_on_commit_callbacks)
    contracts.move_in(contract.pk, day=START, actor=operator_staff)
    assert Unit.objects.get(pk=offer.unit_id).status == Unit.Status.OCCUPIED
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE and contract.check_in_date == START
