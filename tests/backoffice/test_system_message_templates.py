"""系统管理 · 消息模板: the city's account administrators change the words sent to residents
with a reason, see them on sample values first, restore the shipped words; a bad placeholder
is refused naming it; every change is an archive event; nobody else may touch them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from archive.models import Event
from housing import inbox, messages
from housing.models import Household, InboxMessage, MessageTemplate, SmsMessage

pytestmark = pytest.mark.django_db

CODE = "contract.signed"


@pytest.fixture
def city(cast):
    return cast.users["city"]  # the city's account administrator (tests/personas.py)


def edit_url(code: str = CODE) -> str:
    return reverse("system-message-template", kwargs={"code": code})


def post(client, action: str = "save", code: str = CODE, **texts):
    data = {"action": action, "reason": "市住建局通知：统一入住提示", **texts}
    return client.post(edit_url(code), data)


NEW = {
    "subject": "合同 {number} 签好了",
    "body": "请于约定日期带身份证到运营单位办理入住。",
    "sms": "【安居】合同 {number} 签好了，请带身份证办理入住。",
}


def test_a_saved_edit_is_what_the_resident_receives_next(
    client, city, django_capture_on_commit_callbacks
):
    client.force_login(city)
    listing = client.get(reverse("system-message-templates")).content.decode()
    assert "租赁合同已签订" in listing and edit_url() in listing
    assert post(client, **NEW).status_code == 302

    household = Household.objects.filter(applicant__isnull=False)[0]
    with django_capture_on_commit_callbacks(execute=True):
        inbox.notify_household(household, CODE, url="/my/", number="HT2026-000901")
    told = InboxMessage.objects.filter(applicant=household.applicant).latest("pk")
    assert told.subject == "合同 HT2026-000901 签好了"
    assert told.body == "请于约定日期带身份证到运营单位办理入住。"
    sms = SmsMessage.objects.filter(phone=household.phone).latest("pk").text
    assert sms == "【安居】合同 HT2026-000901 签好了，请带身份证办理入住。"

    event = Event.objects.filter(action="template.changed").latest("id")
    shipped = messages.shipped()[CODE]
    assert event.actor == city and event.reason == "市住建局通知：统一入住提示"
    assert event.before == shipped.texts()
    assert event.after == {"code": CODE, "restored": False, **NEW}
    row = MessageTemplate.objects.get(code=CODE)
    assert row.customised and row.updated_by == city


def test_restore_brings_back_the_shipped_words_and_is_recorded(client, city):
    client.force_login(city)
    post(client, **NEW)
    page = client.get(edit_url()).content.decode()
    assert "恢复系统默认文字" in page and "签好了" in page
    assert post(client, "restore").status_code == 302
    row = MessageTemplate.objects.get(code=CODE)
    assert {"subject": row.subject, "body": row.body, "sms": row.sms} == (
        messages.shipped()[CODE].texts()
    )
    assert not row.customised
    event = Event.objects.filter(action="template.changed").latest("id")
    assert event.after["restored"] is True and event.before["sms"] == NEW["sms"]


def test_a_bad_placeholder_is_refused_naming_it_and_nothing_is_saved(client, city):
    client.force_login(city)
    before = Event.objects.filter(action="template.changed").count()
    response = post(client, **(NEW | {"body": "合同 {contract_no} 已签订"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "{contract_no}" in html and "不可用于此模板" in html and "{number}" in html
    assert MessageTemplate.objects.get(code=CODE).body == messages.shipped()[CODE].body
    assert Event.objects.filter(action="template.changed").count() == before


def test_a_reason_is_required(client, city):
    client.force_login(city)
    response = client.post(edit_url(), {"action": "save", **NEW, "reason": " "})
    assert response.status_code == 200 and "请写明修改原因" in response.content.decode()
    assert not MessageTemplate.objects.get(code=CODE).customised


def test_the_code_sms_must_stay_one_segment_with_its_sign(client, city):
    client.force_login(city)
    unsigned = post(client, code="sign_in.code", sms="您的验证码是 {code}。")
    assert "【安居】" in unsigned.content.decode() and "须以短信签名" in unsigned.content.decode()
    long = "【安居】您的登录验证码是 {code}，" + "请勿将验证码告诉任何人。" * 6
    assert "70 字" in post(client, code="sign_in.code", sms=long).content.decode()
    assert not MessageTemplate.objects.get(code="sign_in.code").customised


def test_preview_fills_sample_values_and_saves_nothing(client, city):
    client.force_login(city)
    html = post(client, "preview", **NEW).content.decode()
    assert "合同 HT2026-000123 签好了" in html  # the sample contract number
    assert not MessageTemplate.objects.get(code=CODE).customised
    assert not Event.objects.filter(action="template.changed").exists()


@pytest.mark.parametrize("role", ["district", "street", "operator"])
def test_only_the_city_administrators_may_see_or_change_them(client, cast, role):
    client.force_login(cast.users[role])  # the district persona is its county's administrator
    assert client.get(reverse("system-message-templates")).status_code == 403
    assert client.get(edit_url()).status_code == 403
    assert post(client, **NEW).status_code == 403
    assert not MessageTemplate.objects.get(code=CODE).customised


def test_an_unknown_code_is_not_found(client, city):
    client.force_login(city)
    assert client.get(edit_url("no.such")).status_code == 404


def test_the_list_costs_the_same_whatever_was_edited(client, city, django_assert_num_queries):
    client.force_login(city)
    client.get(reverse("system-message-templates"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("system-message-templates"))
    baseline = len(few.captured_queries)
    for code in ["contract.signed", "repair.assigned", "exit.settled"]:
        MessageTemplate.objects.filter(code=code).update(updated_by=city, customised=True)
    with django_assert_num_queries(baseline):
        client.get(reverse("system-message-templates"))
