"""Form errors a resident meets are Chinese and say which field is wrong and how to fix it:
the application (fields, the household table, identity checks), sign-in and the self-check.
The self-check offers no "---------" and answers in plain numbers ("0 家", not "0.00家")."""

import re

import pytest
from django.core.management import call_command

from housing.models import Application, EligibilityRule
from tests.housing.test_identity import _form, _police_file
from tests.housing.test_review_path import ROOT, person, sign_in

pytestmark = pytest.mark.django_db
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
# Django's own messages, English or Chinese, say nothing about which field they are about.
GENERIC = ("This field", "Enter a", "Select a valid", "Ensure this", "ManagementForm", "该字段")


def field_block(html: str, name: str) -> str:
    """The markup of one field: its label, input, help and errors."""
    found = re.search(rf'<div class="field field--{name}">(.*?)</div>', html, re.S)
    assert found, f"no field {name}"
    return found.group(1)


def assert_no_generic(html: str) -> None:
    leaked = [text for text in GENERIC if text in html]
    assert not leaked, leaked


@pytest.fixture
def applicant(client):
    sign_in(client, "13700006001")
    return client


def test_an_empty_application_names_every_missing_field(applicant):
    html = applicant.post(
        "/apply/",
        {"action": "submit", "m-TOTAL_FORMS": 0, "m-INITIAL_FORMS": 0, "consent": "on"},
        **ZH,
    ).content.decode()
    for message in (
        "请填写“申请人姓名”。",
        "请填写“身份证号”。",
        "请选择“申请区县”。",
        "请选择“街道/乡镇”。",
        "请选择“社区/村”。",
    ):
        assert message in html
    assert "请修改以下内容" in html and 'href="#id_county"' in html  # the summary links there
    assert "请选择“申请区县”。" in field_block(html, "county")
    assert_no_generic(html)


def test_bad_numbers_and_choices_say_what_to_type(applicant, place):
    html = applicant.post(
        "/apply/",
        _form(place, "张三", "", action="save")
        | {"county": "999999", "current_area": "25平方", "monthly_income": "123456789012"},
        **ZH,
    ).content.decode()
    assert "所选“申请区县”不在可选范围内，请重新选择。" in html
    assert "“现住房面积”请填写数字，不带单位或逗号。" in field_block(html, "current_area")
    assert "“家庭月收入”的数字太长：最多 10 位数字。" in field_block(html, "monthly_income")
    assert_no_generic(html)


def test_submitting_without_consent_is_shown_at_the_consent_box(applicant, place):
    name, number = person(6001)
    html = applicant.post(
        "/apply/", {k: v for k, v in _form(place, name, number).items() if k != "consent"}, **ZH
    ).content.decode()
    assert "提交前请勾选同意查询部门数据" in html
    assert not Application.objects.filter(id_number=number).exclude(stage="draft").exists()


def test_a_broken_household_table_is_explained_not_in_djangos_words(applicant, place):
    form = {k: v for k, v in _form(place, "张三", "").items() if not k.startswith("m-")}
    html = applicant.post("/apply/", form | {"action": "save"}, **ZH).content.decode()
    assert "“家庭成员”表格的数据不完整（页面可能已过期）：请刷新页面，重新填写家庭成员。" in html
    assert_no_generic(html)


def test_the_prefill_shows_a_wrong_name_at_the_name_field(applicant, platform_settings):
    _, number = person(6002)
    html = applicant.post(
        "/apply/", {"action": "prefill", "name": "张冒名", "id_number": number}, **ZH
    ).content.decode()
    message = "“姓名”与该身份证号在公安户籍登记的姓名不一致：请按身份证上的姓名填写"
    assert message in field_block(html, "name")
    assert 'value="张冒名"' in html  # what was typed stays, to be corrected


def test_the_prefill_shows_an_unknown_id_at_the_id_field(applicant, settings, tmp_path):
    _police_file(tmp_path, [])
    settings.ANJU_DATA_SOURCE, settings.ANJU_DATA_SNAPSHOT_DIR = "files", str(tmp_path)
    name, number = person(6003)
    html = applicant.post(
        "/apply/", {"action": "prefill", "name": name, "id_number": number}, **ZH
    ).content.decode()
    assert "公安户籍中没有身份证号" in field_block(html, "id_number")
    assert "请核对“身份证号”" in html


def test_the_prefill_asks_for_what_is_missing_before_querying(applicant):
    html = applicant.post(
        "/apply/", {"action": "prefill", "name": "", "id_number": "3416"}, **ZH
    ).content.decode()
    assert "请先填写“姓名”（与身份证上一致），再查询部门数据。" in field_block(html, "name")
    assert "身份证号应为 18 位" in field_block(html, "id_number")


def test_sign_in_errors_name_the_field(client):
    html = client.post("/apply/login/", {"phone": ""}, **ZH).content.decode()
    assert "请填写“手机号”。" in html
    html = client.post("/apply/verify/", {"phone": "13900001111", "code": "12"}, **ZH)
    assert "验证码为 6 位数字" in html.content.decode()
    assert_no_generic(html.content.decode())


@pytest.fixture
def rules(db):
    call_command(
        "load_rules", str(ROOT / "data" / "eligibility-rules.json"), commit=True, verbosity=0
    )


def test_self_check_errors_are_chinese_and_name_the_field(client, rules):
    html = client.get(
        "/self-check/",
        {"members": "0", "monthly_income": "三千", "insured_years": "1.25", "property_area": "-1"},
        **ZH,
    ).content.decode()
    for message in (
        "请选择“申请区县”。",
        "“家庭人口”不能小于 1。",
        "“家庭月收入”请填写数字，不带单位或逗号。",
        "“本地社保缴纳年限”最多保留 1 位小数。",
        "“家庭自有住房面积合计”不能小于 0。",
        "请填写“自有住房套数”。",
    ):
        assert message in html
    assert_no_generic(html)


def test_self_check_offers_a_prompt_not_dashes_and_plain_numbers(client, rules):
    page = client.get("/self-check/", **ZH).content.decode()
    assert "---------" not in page and '<option value="" selected>请选择区县</option>' in page
    county = EligibilityRule.objects.filter(county__adcode="341602").first().county
    html = client.get(
        "/self-check/",
        {
            "county": county.pk,
            "members": 3,
            "monthly_income": "4000",
            "property_area": "0",
            "property_count": 1,
            "vehicle_value": "0",
            "business_count": 0,
            "residence_years": 5,
            "insured_years": "1.5",
        },
        **ZH,
    ).content.decode()
    assert not re.search(r"\d\.00\b", html)  # no useless decimals anywhere in the findings
    assert "不超过 0 " in html and '<span lang="zh-Hans">家</span>' in html
    assert "1333.33 " in html  # 4000 / 3 per head keeps its cents
    assert "1.5 " in html and "2000 " in html
    assert "不符合" in html  # one home owned: the rule says none
    assert 'href="/apply/login/?next=/apply/"' not in html  # not eligible: no link to apply
