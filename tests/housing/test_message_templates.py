"""Message templates: what the code sends is shipped as data, the city's words are what the
resident receives next, a missing value never reaches a resident as "{name}", and a release
never overwrites the city's words."""

import ast
import logging
import re
from dataclasses import replace
from pathlib import Path

import pytest
from django.conf import settings

from housing import inbox, messages, services
from housing.models import Household, InboxMessage, MessageTemplate, SmsMessage

ROOT = Path(settings.BASE_DIR)
SENDERS = {"notify_household", "notify_applicant", "_tell", "sms_text", "message_template"}
CODE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


def sources() -> list[Path]:
    skip = {"tests", "bench", "node_modules", "static", "templates", "data", "docs"}
    tops = [p for p in ROOT.iterdir() if p.is_dir() and p.name not in skip and p.name[0] != "."]
    return [p for top in tops for p in top.rglob("*.py") if "migrations" not in p.parts]


def codes_sent_by_the_code() -> dict[str, str]:
    """Every template code written in a call that sends a message (or a sender's default),
    with where it is."""
    found = {}
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            words = []
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                words = [k.value for k in node.keywords if k.arg == "message"]
                if name in SENDERS:
                    words += node.args[:2]
            elif isinstance(node, ast.FunctionDef):
                kwonly = zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
                words = [d for a, d in kwonly if a.arg == "message" and d is not None]
            for arg in words:
                for leaf in ast.walk(arg):
                    text = leaf.value if isinstance(leaf, ast.Constant) else None
                    if isinstance(text, str) and CODE.match(text):
                        found[text] = f"{path.relative_to(ROOT)}:{leaf.lineno}"
    return found


def test_every_code_the_code_sends_is_shipped_and_every_shipped_code_is_used():
    sent = codes_sent_by_the_code()
    shipped = set(messages.shipped())
    assert len(sent) > 30  # the scan sees the call sites (it would pass vacuously otherwise)
    unknown = {code: where for code, where in sent.items() if code not in shipped}
    assert not unknown, f"codes sent but not in data/message-templates.json: {unknown}"
    assert not shipped - set(sent), "shipped templates no code sends"


def test_every_shipped_template_passes_the_checks_an_edit_must_pass():
    for code, tpl in messages.shipped().items():
        messages.check(tpl)  # raises naming the field and the placeholder
        assert tpl.sms == "" or tpl.sms.startswith("【安居】"), code


def test_an_unknown_or_reaching_placeholder_is_refused_naming_it():
    tpl = messages.shipped()["contract.signed"]
    with pytest.raises(messages.TemplateError, match=r"\{nmuber\}") as refused:
        messages.check(replace(tpl, body="合同 {nmuber} 已签订"))
    assert refused.value.field == "body" and "{number}" in str(refused.value)
    with pytest.raises(messages.TemplateError, match="写法不对"):
        messages.check(replace(tpl, sms="【安居】{number.__class__}"))
    with pytest.raises(messages.TemplateError, match="花括号不成对"):
        messages.check(replace(tpl, subject="合同 {number"))
    with pytest.raises(messages.TemplateError, match="格式不适用"):
        messages.check(replace(messages.shipped()["renewal.reminded"], sms="【安居】{number:,.2f}"))


def test_the_code_sms_keeps_its_sign_its_code_and_one_segment():
    tpl = messages.shipped()["sign_in.code"]
    with pytest.raises(messages.TemplateError, match="【安居】"):
        messages.check(replace(tpl, sms="您的登录验证码是 {code}。"))
    with pytest.raises(messages.TemplateError, match=r"\{code\}"):
        messages.check(replace(tpl, sms="【安居】请使用短信中的验证码登录。"))
    long = "【安居】您的登录验证码是 {code}，" + "请勿告诉他人" * 10
    with pytest.raises(messages.TemplateError, match="70 字"):
        messages.check(replace(tpl, sms=long))
    # Any other SMS may run past one segment (a warning), not past 300 characters.
    other = messages.shipped()["contract.signed"]
    assert messages.check(replace(other, sms="【安居】" + "请按约定日期办理入住。" * 7))
    with pytest.raises(messages.TemplateError, match="300"):
        messages.check(replace(other, sms="【安居】" + "请按约定日期办理入住。" * 30))


@pytest.fixture
def household(db) -> Household:
    return Household.objects.filter(applicant__isnull=False).order_by("pk")[0]


@pytest.mark.django_db
def test_the_saved_words_are_what_the_household_receives_next(
    household, django_capture_on_commit_callbacks
):
    MessageTemplate.objects.filter(code="contract.signed").update(
        subject="合同 {number} 签好了",
        body="请于约定日期带身份证办理入住。",
        sms="【安居】合同 {number} 签好了，请登录查看。",
        customised=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        inbox.notify_household(household, "contract.signed", url="/my/", number="HT2026-000777")
    told = InboxMessage.objects.filter(applicant=household.applicant).latest("pk")
    assert (told.subject, told.body) == (
        "合同 HT2026-000777 签好了",
        "请于约定日期带身份证办理入住。",
    )
    sms = SmsMessage.objects.filter(phone=household.phone).latest("pk")
    assert sms.text == "【安居】合同 HT2026-000777 签好了，请登录查看。"


@pytest.mark.django_db
def test_the_shipped_words_are_todays_words(household, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        inbox.notify_household(household, "contract.signed", url="/my/", number="HT2026-000778")
    told = InboxMessage.objects.filter(applicant=household.applicant).latest("pk")
    assert told.subject == "租赁合同 HT2026-000778 已签订"
    assert SmsMessage.objects.filter(phone=household.phone).latest("pk").text == (
        "【安居】租赁合同 HT2026-000778 已签订，可登录下载。请按约定日期办理入住。"
    )


@pytest.mark.django_db
def test_an_edited_sign_in_sms_is_sent_with_the_code():
    MessageTemplate.objects.filter(code="sign_in.code").update(
        sms="【安居】验证码 {code}（{minutes} 分钟内有效），工作人员不会向您索要。"
    )
    services.send_code("13912340001", ip=None)
    text = SmsMessage.objects.filter(phone="13912340001").latest("pk").text
    assert re.fullmatch(r"【安居】验证码 \d{6}（10 分钟内有效），工作人员不会向您索要。", text)


@pytest.mark.django_db
def test_a_missing_value_sends_the_shipped_words_and_logs(
    household, django_capture_on_commit_callbacks, caplog
):
    # A city's words naming a value this release no longer passes.
    row = MessageTemplate.objects.get(code="renewal.rejected")
    row.placeholders = row.placeholders | {"deadline": {"label": "期限", "sample": "2026-12-31"}}
    row.body = "理由：{reasons}。请于 {deadline} 前办理退出。"
    row.customised = True
    row.save()
    with (
        caplog.at_level(logging.ERROR, logger="housing.messages"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        inbox.notify_household(household, "renewal.rejected", url="/my/", reasons="收入超标")
    told = InboxMessage.objects.filter(applicant=household.applicant).latest("pk")
    assert told.body == (
        "理由：收入超标。合同到期后须按规定办理退出；如有异议请与县区住房保障部门联系。"
    )
    assert "{" not in told.body and "renewal.rejected" in caplog.text


@pytest.mark.django_db
def test_a_release_adds_new_codes_and_never_overwrites_the_citys_words():
    MessageTemplate.objects.filter(code="contract.signed").update(
        sms="【安居】合同 {number} 签好了。", customised=True
    )
    MessageTemplate.objects.filter(code="contract.cancelled").update(body="旧版本的文字")
    MessageTemplate.objects.filter(code="repair.assigned").delete()
    assert messages.sync() == (1, 1)
    assert (
        MessageTemplate.objects.get(code="contract.signed").sms == "【安居】合同 {number} 签好了。"
    )
    shipped = messages.shipped()
    assert MessageTemplate.objects.get(code="contract.cancelled").body == (
        shipped["contract.cancelled"].body
    )
    assert MessageTemplate.objects.get(code="repair.assigned").body == (
        shipped["repair.assigned"].body
    )
    assert MessageTemplate.objects.count() == len(shipped)
