"""The 年审 and 续租 pages as people use them: the tenant on /my/ (phone first), staff in
运营管理 within their jurisdiction (another county or operator gets a 404), the to-do counts."""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model

from backoffice import annual_reviews as staff_reviews
from backoffice import renewals as staff_renewals
from backoffice.models import StaffProfile
from geo.models import Operator, Region
from tenancy.models import AnnualReview, Renewal
from tenancy.services import annual_reviews, renewals
from tests.personas import make_staff
from tests.tenancy.rent import lease
from tests.tenancy.test_renewals_support import Departments, answers, as_tenant, ending_lease

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(offer):
    return ending_lease(60)


@pytest.fixture
def review(contract):
    annual_reviews.open_due_reviews(date(2026, 1, 5))
    return AnnualReview.objects.get(contract=contract, year=2026)


@pytest.fixture
def renewal(contract):
    return renewals.apply(
        contract.pk,
        applicant=contract.household.applicant,
        months=24,
        answers=answers(contract.household),
        source=Departments(),
    )


@pytest.fixture
def staff(contract):
    county = contract.household.county
    estate = contract.unit.building.estate
    elsewhere = Region.objects.filter(level=Region.Level.DISTRICT).exclude(pk=county.pk).first()
    other_operator = Operator.objects.exclude(pk=estate.operator_id).first()
    return {
        "county": make_staff("g-county", StaffProfile.Role.DISTRICT, region=county),
        "operator": make_staff("g-op", StaffProfile.Role.OPERATOR, operator=estate.operator),
        "other_county": make_staff("g-far", StaffProfile.Role.DISTRICT, region=elsewhere),
        "other_operator": make_staff(
            "g-far-op", StaffProfile.Role.OPERATOR, operator=other_operator
        ),
    }


def test_the_tenant_answers_the_review_on_a_phone_page(client, review, monkeypatch):
    monkeypatch.setattr("tenancy.services.annual_reviews.query_all", _fake_query_all)
    as_tenant(client, review.household)
    page = client.get(f"/my/annual-reviews/{review.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "确认家庭情况" in html and review.household.head_name in html
    assert 'name="viewport"' in html
    mine = client.get(f"/my/contracts/{review.contract_id}/annual-review/")
    assert mine.url == f"/my/annual-reviews/{review.pk}/"
    members = review.household.members.all()
    data = {
        "action": "submit",
        "monthly_income": "1500",
        "other_housing": "none",
        "truthful": "on",
        "m-TOTAL_FORMS": str(len(members)),
        "m-INITIAL_FORMS": "0",
        "m-MIN_NUM_FORMS": "0",
        "m-MAX_NUM_FORMS": "12",
    }
    for i, m in enumerate(members):
        data |= {
            f"m-{i}-name": m.name,
            f"m-{i}-relation": m.relation_text,
            f"m-{i}-id_number": m.id_number,
        }
    bad = client.post(f"/my/annual-reviews/{review.pk}/", data | {"truthful": ""})
    assert bad.status_code == 400 and "提交前请勾选承诺" in bad.content.decode()
    done = client.post(f"/my/annual-reviews/{review.pk}/", data)
    assert done.status_code == 302
    review.refresh_from_db()
    assert review.status == AnnualReview.Status.SUBMITTED
    assert review.answers["monthly_income"] == "1500"


def _fake_query_all(id_number, source=None):
    from exchange.sources import query_all

    return query_all(id_number, Departments())


def test_the_tenant_applies_for_renewal_from_the_contract(client, contract, monkeypatch):
    monkeypatch.setattr("tenancy.services.annual_reviews.query_all", _fake_query_all)
    as_tenant(client, contract.household)
    assert f"/my/contracts/{contract.pk}/renewal/" in client.get("/my/").content.decode()
    page = client.get(f"/my/contracts/{contract.pk}/renewal/")
    assert page.status_code == 200 and "提交续租申请" in page.content.decode()
    data = {
        "action": "apply",
        "months": "24",
        "monthly_income": "1200",
        "other_housing": "none",
        "truthful": "on",
        "m-TOTAL_FORMS": "1",
        "m-INITIAL_FORMS": "0",
        "m-MIN_NUM_FORMS": "0",
        "m-MAX_NUM_FORMS": "12",
        "m-0-name": contract.household.head_name,
        "m-0-relation": "本人",
        "m-0-id_number": contract.household.head_id_number,
    }
    assert client.post(f"/my/contracts/{contract.pk}/renewal/", data).status_code == 302
    renewal = Renewal.objects.get(contract=contract)
    assert renewal.status == Renewal.Status.PENDING and renewal.findings
    assert "撤回续租申请" in client.get(f"/my/contracts/{contract.pk}/renewal/").content.decode()
    client.post(f"/my/contracts/{contract.pk}/renewal/withdraw/")
    renewal.refresh_from_db()
    assert renewal.status == Renewal.Status.WITHDRAWN


def test_resident_pages_are_404_for_another_applicant(client, contract, review, renewal):
    as_tenant(client, lease(start=date(2024, 1, 1), skip=3).household)
    for url in (
        f"/my/annual-reviews/{review.pk}/",
        f"/my/contracts/{contract.pk}/renewal/",
        f"/my/contracts/{contract.pk}/annual-review/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/my/contracts/{contract.pk}/renewal/withdraw/").status_code == 404
    assert Renewal.objects.get(pk=renewal.pk).status == Renewal.Status.PENDING


def test_staff_queues_and_cases_are_scoped(client, review, renewal, staff):
    rows = {
        "annual": (
            f"/staff/operations/annual-reviews/?status=open&q={review.contract.number}",
            f'href="/staff/operations/annual-reviews/{review.pk}/"',
        ),
        "renewal": (
            f"/staff/operations/renewals/?q={renewal.contract.number}",
            f'href="/staff/operations/renewals/{renewal.pk}/"',
        ),
    }
    for who in ("county", "operator"):
        client.force_login(staff[who])
        for url, name in rows.values():
            assert name in client.get(url).content.decode(), (who, url)
        assert client.get(f"/staff/operations/annual-reviews/{review.pk}/").status_code == 200
        assert client.get(f"/staff/operations/renewals/{renewal.pk}/").status_code == 200
    for who in ("other_county", "other_operator"):
        client.force_login(staff[who])
        for url, name in rows.values():
            page = client.get(url)
            assert page.status_code == 200 and name not in page.content.decode(), (who, url)
        for url in (
            f"/staff/operations/annual-reviews/{review.pk}/",
            f"/staff/operations/renewals/{renewal.pk}/",
        ):
            assert client.get(url).status_code == 404, (who, url)
        for url in (
            f"/staff/operations/annual-reviews/{review.pk}/decide/",
            f"/staff/operations/renewals/{renewal.pk}/decide/",
            f"/staff/operations/renewals/{renewal.pk}/recheck/",
        ):
            assert client.post(url, {"decision": "reject", "reasons": "x"}).status_code == 404
    assert Renewal.objects.get(pk=renewal.pk).status == Renewal.Status.PENDING
    client.force_login(get_user_model().objects.create_user("g-nobody", password="x-y-z-12345"))
    assert client.get("/staff/operations/renewals/").status_code == 403


def test_the_county_decides_the_operator_only_follows(client, review, renewal, staff):
    annual_reviews.submit(
        review.pk,
        applicant=review.household.applicant,
        answers=answers(review.household),
        source=Departments(),
    )
    client.force_login(staff["operator"])
    assert (
        "提交审核结论"
        not in client.get(f"/staff/operations/renewals/{renewal.pk}/").content.decode()
    )
    client.post(
        f"/staff/operations/renewals/{renewal.pk}/decide/", {"decision": "reject", "reasons": "x"}
    )
    assert Renewal.objects.get(pk=renewal.pk).status == Renewal.Status.PENDING
    client.force_login(staff["county"])
    assert (
        "提交审核结论"
        in client.get(f"/staff/operations/annual-reviews/{review.pk}/").content.decode()
    )
    client.post(
        f"/staff/operations/annual-reviews/{review.pk}/decide/",
        {"decision": "reject", "reasons": "家庭收入超过标准"},
    )
    review.refresh_from_db()
    assert review.status == AnnualReview.Status.REJECTED and review.reasons == "家庭收入超过标准"


def test_to_do_counts_agree_with_the_queues(review, renewal, staff):
    annual_reviews.flag_missed(review.due_date + timedelta(days=1))
    county = {t.label: t.count for t in staff_reviews.pending_tasks(staff["county"])}
    assert (
        county["逾期未填报的年审"]
        == staff_reviews.reviews_for(staff["county"]).filter(status="missed").count()
        >= 1
    )
    assert "待审核的年审" in county
    operator = {t.label for t in staff_reviews.pending_tasks(staff["operator"])}
    assert "待审核的年审" not in operator
    tasks = {t.label: t.count for t in staff_renewals.pending_tasks(staff["county"])}
    assert tasks["待审核的续租申请"] >= 1
    ending = staff_renewals.ending_soon(staff["county"])
    assert tasks["三个月内到期、尚未申请续租的合同"] == ending.count()
    assert not ending.filter(pk=renewal.contract_id).exists()
    far = {t.label: t.count for t in staff_renewals.pending_tasks(staff["other_operator"])}
    assert (
        far["三个月内到期、尚未申请续租的合同"]
        == staff_renewals.ending_soon(staff["other_operator"]).count()
    )


def test_lists_keep_a_fixed_number_of_queries(
    client, review, renewal, staff, django_assert_max_num_queries
):
    client.force_login(staff["county"])
    for url in (
        "/staff/operations/annual-reviews/?status=all",
        "/staff/operations/renewals/?status=all",
        "/staff/operations/renewals/?tab=ending",
    ):
        with django_assert_max_num_queries(14):
            assert client.get(url).status_code == 200


def test_exports_are_scoped_and_cannot_run_formulas(client, review, renewal, staff):
    from housing.models import Household

    Household.objects.filter(pk=renewal.household_id).update(head_name="=HYPERLINK(1)")
    client.force_login(staff["county"])
    for url in (
        f"/staff/operations/annual-reviews/?status=all&q={review.contract.number}&format=csv",
        f"/staff/operations/renewals/?status=all&q={renewal.contract.number}&format=csv",
    ):
        text = client.get(url).content.decode("utf-8-sig")
        assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text, url
    xlsx = client.get("/staff/operations/renewals/?status=all&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    client.force_login(staff["other_county"])
    text = client.get("/staff/operations/renewals/?status=all&format=csv").content.decode(
        "utf-8-sig"
    )
    assert renewal.contract.number not in text


def test_the_review_form_is_prefilled_from_the_police_register(client, review, monkeypatch):
    monkeypatch.setattr("housing.services._source", lambda: Departments())
    as_tenant(client, review.household)
    page = client.post(f"/my/annual-reviews/{review.pk}/", {"action": "prefill"})
    html = page.content.decode()
    assert page.status_code == 200 and "已从公安户籍读取" in html
    police = Departments().fetch("police", review.household.head_id_number).payload
    for member in police["members"]:
        assert member["name"] in html
    assert AnnualReview.objects.get(pk=review.pk).status == AnnualReview.Status.OPEN


def test_an_approved_renewal_leads_the_tenant_to_the_new_lease(client, renewal, staff):
    done = renewals.decide(renewal.pk, approve=True, reasons="", actor=staff["county"])
    as_tenant(client, renewal.household)
    html = client.get(f"/my/contracts/{renewal.contract_id}/renewal/").content.decode()
    assert "阅读并确认续租合同" in html
    assert f'href="/my/contracts/{done.new_contract_id}/"' in html
    assert "提交续租申请" not in html  # a second request cannot be made beside it
