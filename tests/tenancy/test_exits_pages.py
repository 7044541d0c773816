"""退出 pages as people use them: the tenant gives notice from /my/ (only for their own lease),
staff work the queue in /staff/operations/exits/ within their jurisdiction (others' exits are
404), inspect with damages and settle; the queue's count is what the staff home shows."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from geo.models import Operator, Region
from housing.models import Applicant
from tenancy.models import Contract, Exit
from tenancy.services import billing, exits
from tests.personas import make_staff
from tests.tenancy.rent import lease

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
BEGAN = billing.previous_month(billing.previous_month(billing.month_of(TODAY)))


def _as_tenant(client, household) -> None:
    session = client.session
    session["applicant_id"] = household.applicant_id
    session.save()


@pytest.fixture
def contract(db) -> Contract:
    return lease(start=BEGAN)


@pytest.fixture
def people(contract):
    estate = contract.unit.building.estate
    other_county = Region.objects.filter(level="district").exclude(pk=estate.district_id).first()
    other_operator = Operator.objects.exclude(pk=estate.operator_id).first()
    return {
        "district": make_staff("x-district", "district", region=estate.district),
        "operator": make_staff("x-operator", "operator", operator=estate.operator),
        "community": make_staff("x-community", "community", region=estate.community)
        if estate.community
        else None,
        "other_county": make_staff("x-other-county", "district", region=other_county),
        "other_operator": make_staff("x-other-op", "operator", operator=other_operator),
    }


def test_the_tenant_gives_notice_from_my_page(client, contract, django_capture_on_commit_callbacks):
    _as_tenant(client, contract.household)
    assert f"/my/contracts/{contract.pk}/exit/" in client.get("/my/").content.decode()
    page = client.get(f"/my/contracts/{contract.pk}/exit/")
    assert page.status_code == 200 and "申请退租" in page.content.decode()
    early = client.post(
        f"/my/contracts/{contract.pk}/exit/",
        {"move_out_by": (TODAY + timedelta(days=5)).isoformat(), "agree": "on"},
    )
    assert "须提前 30 天" in early.content.decode()
    assert not Exit.objects.filter(contract=contract).exists()
    day = TODAY + timedelta(days=40)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            f"/my/contracts/{contract.pk}/exit/",
            {"move_out_by": day.isoformat(), "reason": "购买了商品房", "agree": "on"},
        )
    assert done.status_code == 302
    exit_ = Exit.objects.get(contract=contract)
    assert (exit_.reason, exit_.status, exit_.move_out_by) == ("voluntary", "notice", day)
    assert "购买了商品房" in exit_.source_ref
    shown = client.get(f"/my/contracts/{contract.pk}/exit/").content.decode()
    assert "待腾退" in shown and day.isoformat() in shown and "提交退租申请" not in shown


def test_another_applicant_gets_404_and_a_visitor_signs_in(client, contract):
    url = f"/my/contracts/{contract.pk}/exit/"
    assert client.get(url).status_code == 302
    stranger = Applicant.objects.exclude(pk=contract.household.applicant_id).first()
    session = client.session
    session["applicant_id"] = stranger.pk
    session.save()
    assert client.get(url).status_code == 404
    posted = client.post(
        url, {"move_out_by": (TODAY + timedelta(days=40)).isoformat(), "agree": "on"}
    )
    assert posted.status_code == 404
    assert not Exit.objects.filter(contract=contract).exists()


def test_every_staff_url_is_404_outside_the_jurisdiction(client, contract, people):
    exit_ = exits.start(contract.pk, reason="violation", actor=people["district"])
    urls = [f"/staff/operations/exits/{exit_.pk}/"]
    posts = {
        f"/staff/operations/exits/{exit_.pk}/inspect/": {
            "moved_out_on": TODAY.isoformat(),
            "condition": "good",
            "outcome": "vacant",
        },
        f"/staff/operations/exits/{exit_.pk}/withdraw/": {"reason": "x"},
        f"/staff/operations/exits/{exit_.pk}/settle/": {},
    }
    for who in ("other_county", "other_operator"):
        client.force_login(people[who])
        listing = client.get("/staff/operations/exits/?show=all").content.decode()
        assert contract.number not in listing
        for url in urls:
            assert client.get(url).status_code == 404, (who, url)
        for url, data in posts.items():
            assert client.post(url, data).status_code == 404, (who, url)
    exit_.refresh_from_db()
    assert exit_.status == Exit.Status.NOTICE
    for who in ("district", "operator"):
        client.force_login(people[who])
        assert contract.number in client.get("/staff/operations/exits/").content.decode()
        assert client.get(urls[0]).status_code == 200


def test_communities_follow_the_queue_but_do_not_inspect(client, contract, people):
    if people["community"] is None:
        pytest.skip("the lease's estate has no community")
    exit_ = exits.start(contract.pk, reason="expired", actor=None)
    client.force_login(people["community"])
    page = client.get(f"/staff/operations/exits/{exit_.pk}/").content.decode()
    assert contract.number in page and "登记验房" not in page
    refused = client.post(
        f"/staff/operations/exits/{exit_.pk}/inspect/",
        {"moved_out_on": TODAY.isoformat(), "condition": "good", "outcome": "vacant"},
    )
    assert refused.status_code == 403


def test_the_operator_inspects_with_damages_and_settles(client, contract, people):
    exit_ = exits.start(contract.pk, reason="voluntary", actor=None)
    client.force_login(people["operator"])
    url = f"/staff/operations/exits/{exit_.pk}/"
    bad = client.post(
        url + "inspect/",
        {
            "moved_out_on": TODAY.isoformat(),
            "condition": "damaged",
            "outcome": "vacant",
            "damage-0-item": "门锁",
            "damage-0-amount": "abc",
        },
    )
    assert "第 1 行：金额“abc”" in bad.content.decode()
    done = client.post(
        url + "inspect/",
        {
            "moved_out_on": TODAY.isoformat(),
            "condition": "damaged",
            "outcome": "vacant",
            "notes": "门锁损坏",
            "damage-0-item": "门锁",
            "damage-0-amount": "120",
            "damage-0-note": "更换",
        },
    )
    assert done.status_code == 302
    exit_.refresh_from_db()
    assert exit_.status == Exit.Status.SETTLEMENT and exit_.damages_total == 120
    page = client.get(url).content.decode()
    assert "确认结算并办结" in page and "门锁" in page
    assert client.post(url + "settle/").status_code == 302
    exit_.refresh_from_db()
    assert exit_.status == Exit.Status.SETTLED
    again = client.post(url + "settle/", follow=True).content.decode()
    assert "不能办理这一步" in again


def test_the_queue_costs_the_same_queries_for_many_rows_and_exports_safely(
    client, people, django_assert_max_num_queries
):
    contracts = [lease(start=BEGAN, skip=n) for n in range(6)]
    for c in contracts:
        exits.start(c.pk, reason="expired", actor=None)
    Contract.objects.filter(pk=contracts[0].pk).update(number="=cmd|1")
    client.force_login(people["district"])
    with django_assert_max_num_queries(12):
        page = client.get("/staff/operations/exits/?show=open")
    assert page.status_code == 200
    export = client.get("/staff/operations/exits/?show=open&format=csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) >= 7
    assert all(not cell.startswith("=") for row in rows for cell in row)


def test_the_staff_home_counts_match_the_queue(client, contract, people):
    from backoffice.exits import pending_tasks

    def due() -> list[int]:
        return [t.count for t in pending_tasks(people["district"]) if "show=due" in t.url]

    [before] = due()  # the demo's exits past their date, if any
    exit_ = exits.start(contract.pk, reason="violation", actor=None)
    Exit.objects.filter(pk=exit_.pk).update(move_out_by=TODAY, notice_date=TODAY)
    assert due() == [before + 1]
    tasks = pending_tasks(people["district"])
    client.force_login(people["district"])
    for task in tasks:
        page = client.get(task.url).content.decode()
        assert len(set(re.findall(r'href="/staff/operations/exits/(\d+)/"', page))) == task.count
    assert all(t.count == 0 for t in pending_tasks(people["other_county"]))


def test_staff_open_an_exit_for_a_lease_in_their_jurisdiction_only(client, contract, people):
    client.force_login(people["other_county"])
    data = {"contract": contract.number, "reason": "violation", "source_ref": "WG-2026-0001"}
    refused = client.post("/staff/operations/exits/new/", data)
    assert "不在您的管辖范围内" in refused.content.decode()
    assert not Exit.objects.filter(contract=contract).exists()
    client.force_login(people["district"])
    done = client.post("/staff/operations/exits/new/", data)
    exit_ = Exit.objects.get(contract=contract)
    assert done.url == f"/staff/operations/exits/{exit_.pk}/"
    assert (exit_.reason, exit_.source_ref, exit_.created_by) == (
        "violation",
        "WG-2026-0001",
        people["district"],
    )
    again = client.post("/staff/operations/exits/new/", data).content.decode()
    assert "已有进行中的退出" in again
    if people["community"] is not None:
        client.force_login(people["community"])
        assert client.get("/staff/operations/exits/new/").status_code == 403
