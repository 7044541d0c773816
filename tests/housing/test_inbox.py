"""站内信: a message to a household reaches its account's /my/messages/ and its phone, after the
change that caused it commits; nobody else's account shows it."""

import pytest
from django.db import transaction

from housing import inbox
from housing.models import Applicant, InboxMessage, SmsMessage
from housing.views import SESSION_KEY


def _sign_in(client, applicant: Applicant) -> None:
    session = client.session
    session[SESSION_KEY] = applicant.pk
    session.save()


@pytest.mark.django_db
def test_a_message_is_listed_once_as_new_then_read_and_only_to_its_owner(client):
    owner = Applicant.objects.create(phone="13900000001")
    other = Applicant.objects.create(phone="13900000002")
    inbox.notify(owner, "租赁合同 HT2026-000009 待您确认", "请阅读后确认。", url="/my/")

    _sign_in(client, owner)
    home = client.get("/my/").content.decode()
    assert "1 条未读" in home
    first = client.get("/my/messages/").content.decode()
    assert "租赁合同 HT2026-000009 待您确认" in first and "请阅读后确认。" in first
    assert 'class="tag tag--bad">新' in first
    again = client.get("/my/messages/").content.decode()
    assert "HT2026-000009" in again and 'class="tag tag--bad">新' not in again
    assert "条未读" not in client.get("/my/").content.decode()

    _sign_in(client, other)
    assert "HT2026-000009" not in client.get("/my/messages/").content.decode()


@pytest.mark.django_db
def test_the_sms_goes_only_when_the_change_commits(django_capture_on_commit_callbacks):
    owner = Applicant.objects.create(phone="13900000003")
    with (
        django_capture_on_commit_callbacks(execute=True) as pending,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        inbox.notify(owner, "不会发出的通知")
        raise RuntimeError("the change failed")
    assert pending == []
    assert not InboxMessage.objects.filter(applicant=owner).exists()

    with django_capture_on_commit_callbacks(execute=True):
        inbox.notify(owner, "会发出的通知")
    assert [m.text for m in SmsMessage.objects.filter(phone_index=owner.phone_index)] == [
        "【安居】会发出的通知，详情请登录“我的申请”查看。"
    ]


@pytest.mark.django_db
def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/my/messages/")
    assert response.status_code == 302 and "/apply/login/" in response["Location"]
