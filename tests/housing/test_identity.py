"""Who applies: a stranger's ID number cannot be submitted under a made-up name, the platform's
registered phone is respected where it has one, and a person whose ID another phone used can
claim it back through the county instead of meeting a dead end."""

import csv
import json

import pytest

from archive.models import Event
from exchange.sources import FileSnapshotSource
from housing import identity, services
from housing.models import Applicant, Application, IdentityClaim, SmsMessage
from tests.housing.application_form import application_form
from tests.housing.test_review_path import apply_online, person, sign_in
from tests.personas import make_staff

pytestmark = pytest.mark.django_db


def _form(place, name: str, number: str, action: str = "submit", **extra) -> dict:
    member = {"name": name, "relation": "本人", "id_number": number}
    return application_form(action, name, number, place, [member], **extra)


def test_a_made_up_name_under_a_real_id_is_refused_naming_the_field(
    client, place, platform_settings
):
    name, number = person(801)
    sign_in(client, "13700008001")
    response = client.post("/apply/", _form(place, "张冒名", number))
    html = response.content.decode()
    assert response.status_code == 200
    assert "“姓名”与该身份证号在公安户籍登记的姓名不一致" in html
    assert name not in html  # the registered name is never shown back
    assert not Application.objects.filter(id_number=number).exclude(stage="draft").exists()
    assert "提交本人认领" not in html  # a wrong name is fixed by the resident, not claimed


def test_the_prefill_says_which_field_differs(client, platform_settings):
    _, number = person(802)
    sign_in(client, "13700008002")
    response = client.post("/apply/", {"action": "prefill", "name": "张冒名", "id_number": number})
    assert "“姓名”与该身份证号在公安户籍登记的姓名不一致" in response.content.decode()


def _police_file(tmp_path, rows: list[dict]) -> FileSnapshotSource:
    with (tmp_path / "police.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id_number", "name", "phones"])
        writer.writeheader()
        for row in rows:
            writer.writerow(row | {"phones": json.dumps(row.get("phones", []))})
    return FileSnapshotSource(tmp_path)


def _draft(place, name, number, phone) -> Application:
    county, street, community = place
    applicant, _ = Applicant.objects.get_or_create(phone=phone)
    return Application(
        applicant=applicant,
        name=name,
        id_number=number,
        phone=phone,
        county=county,
        street=street,
        community=community,
        consent=True,
    )


def test_an_id_the_police_do_not_know_is_refused(place, tmp_path):
    name, number = person(803)
    source = _police_file(tmp_path, [])
    with pytest.raises(identity.IdentityProblem, match="公安户籍中没有身份证号"):
        services.save_application(
            _draft(place, name, number, "13700008003"),
            [{"name": name, "relation": "本人"}],
            submit=True,
            source=source,
        )
    assert not Application.objects.filter(id_number=number).exists()  # nothing half-written


def test_where_the_platform_knows_the_phone_only_that_phone_submits(place, tmp_path):
    name, number = person(804)
    source = _police_file(
        tmp_path, [{"id_number": number, "name": name, "phones": ["13700008004"]}]
    )
    members = [{"name": name, "relation": "本人"}]
    with pytest.raises(identity.IdentityBlocked) as blocked:
        services.save_application(
            _draft(place, name, number, "13700008999"), members, submit=True, source=source
        )
    assert blocked.value.reason == IdentityClaim.Reason.PHONE
    saved = services.save_application(
        _draft(place, name, number, "13700008004"), members, submit=True, source=source
    )
    assert saved.stage == "accept"
    event = Event.objects.get(action="application.identity_verified", household_id=saved.pk)
    assert event.after["source"].startswith(source.name)


def test_a_case_from_another_phone_is_claimed_back_through_the_county(
    client, place, chain_staff, platform_settings, django_capture_on_commit_callbacks
):
    name, number = person(805)
    stolen = apply_online(client, place, name, number, phone="13700008051")  # not the owner
    client.logout()

    sign_in(client, "13700008052")  # the owner
    refused = client.post("/apply/", _form(place, name, number))
    html = refused.content.decode()
    assert "该身份证号已有其他手机号提交的申请正在办理" in html
    assert "提交本人认领" in html
    filed = client.post(
        "/apply/", _form(place, name, number, action="claim", statement="我没有申请过")
    )
    assert filed.status_code == 302
    claim = IdentityClaim.objects.get(id_number=number)
    assert (claim.reason, claim.status, claim.other) == ("clash", "pending", stolen)
    assert claim.claimant.phone == "13700008052"
    assert "本人认领 · 待核实" in client.get("/my/").content.decode()
    # Asking twice files one claim.
    client.post("/apply/", _form(place, name, number, action="claim"))
    assert IdentityClaim.objects.filter(id_number=number).count() == 1

    # Communities and streets do not verify people; another county does not see the claim.
    client.force_login(chain_staff["street"])
    assert client.get("/staff/review/claims/").status_code == 403
    client.force_login(chain_staff["other_county"])
    assert client.get(f"/staff/review/claims/{claim.pk}/").status_code == 404
    client.force_login(chain_staff["district"])
    listing = client.get("/staff/review/claims/").content.decode()
    assert claim.application.number in listing
    assert '<span class="tag tag--bad">1</span>' in client.get("/staff/review/").content.decode()
    no_reason = client.post(f"/staff/review/claims/{claim.pk}/decide/", {"accept": "yes"})
    assert no_reason.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):  # messages leave after commit
        decided = client.post(
            f"/staff/review/claims/{claim.pk}/decide/",
            {"accept": "yes", "opinion": "本人持身份证原件到窗口核验"},
        )
    assert decided.status_code == 302
    stolen.refresh_from_db()
    assert stolen.stage == "rejected"
    assert "身份被冒用" in stolen.rejection_reasons
    assert SmsMessage.objects.filter(phone="13700008051", text__contains="已被撤销").exists()
    assert SmsMessage.objects.filter(phone="13700008052", text__contains="成立").exists()
    assert Event.objects.filter(action="identity.decided", household_id=claim.application_id)
    again = client.post(
        f"/staff/review/claims/{claim.pk}/decide/", {"accept": "no", "opinion": "重复"}
    )
    assert "该认领已处理" in client.get(again.url).content.decode()

    # The owner now submits their own case.
    client.logout()
    sign_in(client, "13700008052")
    assert client.post("/apply/", _form(place, name, number)).status_code == 302
    mine = Application.objects.get(id_number=number, applicant__phone="13700008052")
    assert mine.stage == "accept"


def test_no_claim_without_a_block(client, place, platform_settings):
    name, number = person(806)
    sign_in(client, "13700008061")
    response = client.post("/apply/", _form(place, name, number, action="claim"))
    assert response.status_code == 302
    assert not IdentityClaim.objects.filter(id_number=number).exists()
    assert Application.objects.get(id_number=number).stage == "accept"


def test_an_approved_case_is_not_withdrawn_by_a_claim(place, tmp_path):
    name, number = person(807)
    source = _police_file(tmp_path, [{"id_number": number, "name": name}])
    members = [{"name": name, "relation": "本人"}]
    other = services.save_application(
        _draft(place, name, number, "13700008071"), members, submit=True, source=source
    )
    Application.objects.filter(pk=other.pk).update(stage="approved")
    draft = services.save_application(
        _draft(place, name, number, "13700008072"), members, submit=False
    )
    with pytest.raises(identity.IdentityBlocked) as blocked:
        services.save_application(draft, members, submit=True, source=source)
    claim = identity.file_claim(draft, draft.applicant, blocked.value, "")
    county = make_staff("c-district", "district", region=place[0])
    with pytest.raises(services.NotAllowed, match="退出程序"):
        identity.decide_claim(claim.pk, accept=True, opinion="核验", actor=county)
    claim.refresh_from_db()
    assert claim.status == "pending"  # nothing half-written


def test_a_platform_that_is_down_keeps_a_draft_and_says_so(client, place, platform_settings):
    """公安 cannot be asked: no 500, nothing submitted, what was typed kept as a draft."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        platform_settings.ANJU_DATA_PLATFORM_URL = f"http://127.0.0.1:{s.getsockname()[1]}"
    name, number = person(806)
    sign_in(client, "13700008006")
    response = client.post("/apply/", _form(place, name, number))
    html = response.content.decode()
    assert response.status_code == 200
    assert "暂时无法向公安户籍核验身份" in html and "已保存为草稿" in html
    draft = Application.objects.get(id_number=number)
    assert draft.stage == "draft" and draft.submitted_at is None and draft.name == name
