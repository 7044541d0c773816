"""The violation pages in /staff/: each role sees the cases, complaints, idle units and arrears
leads of its jurisdiction only (county its county, operator its estates, grid worker its
community), anything else is a 404; the queue's queries do not grow with its rows; the steps
can be worked through the pages."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from geo.models import Estate, Unit
from tenancy.models import ArrearsWarning, Complaint, UtilityReading, ViolationCase
from tenancy.services import complaints, violations
from tests.personas import make_staff
from tests.tenancy.rent import lease


def unit_of(estate: Estate) -> Unit:
    return Unit.objects.filter(building__estate=estate).order_by("pk").first()


def case_at(estate: Estate, actor, ref: str = "t:1") -> ViolationCase:
    return violations.open_case(
        kind_code="sublet",
        unit_id=unit_of(estate).pk,
        contract_id=None,
        household_id=None,
        source="manual",
        source_ref=ref,
        summary="邻居反映有陌生人居住",
        evidence={},
        actor=actor,
    )


@pytest.fixture
def cases(cast):
    root = cast.users["city"]
    return case_at(cast.inside["district"], root), case_at(cast.outside, root)


@pytest.fixture
def neighbour_estate(cast):
    """An estate of the same county but another community (a grid worker does not see it)."""
    home = cast.inside["community"]
    estate = (
        Estate.objects.filter(district=home.district, community__isnull=False)
        .exclude(community=home.community)
        .exclude(operator=home.operator)
        .order_by("pk")
        .first()
    )
    assert estate is not None and unit_of(estate) is not None
    return estate


@pytest.mark.parametrize("role", ["district", "street", "community", "operator"])
def test_each_role_sees_the_cases_of_its_jurisdiction_and_404_outside(client, cast, cases, role):
    inside, outside = cases
    client.force_login(cast.users[role])
    page = client.get(reverse("violations"))
    assert page.status_code == 200
    listed = {c.pk for c in page.context["page"].object_list}
    assert inside.pk in listed and outside.pk not in listed
    assert client.get(reverse("violation", args=[inside.pk])).status_code == 200
    for name in ("violation",):
        assert client.get(reverse(name, args=[outside.pk])).status_code == 404
    for name in (
        "violation-record",
        "violation-conclude",
        "violation-decide",
        "violation-follow-up",
    ):
        assert client.post(reverse(name, args=[outside.pk]), {"text": "x"}).status_code == 404
    assert client.get(reverse("violation-photo", args=[outside.pk, "0" * 64])).status_code == 404


def test_the_city_sees_every_county(client, cast, cases):
    client.force_login(cast.users["city"])
    listed = {c.pk for c in client.get(reverse("violations")).context["page"].object_list}
    assert {c.pk for c in cases} <= listed


def test_a_grid_worker_does_not_see_another_community_of_the_same_county(
    client, cast, neighbour_estate
):
    case = case_at(neighbour_estate, cast.users["city"])
    client.force_login(cast.users["community"])
    assert client.get(reverse("violation", args=[case.pk])).status_code == 404
    client.force_login(cast.users["district"])
    assert client.get(reverse("violation", args=[case.pk])).status_code == 200


def test_non_staff_are_refused(client, cast, cases):
    client.force_login(cast.users["outsider"])
    assert client.get(reverse("violations")).status_code == 403


def test_the_queue_filters_by_url_and_flags_overdue_steps(client, cast, cases):
    inside, _ = cases
    ViolationCase.objects.filter(pk=inside.pk).update(
        step_due=timezone.localdate() - timedelta(days=1)
    )
    client.force_login(cast.users["district"])
    today = timezone.localdate()
    page = client.get(reverse("violations"), {"overdue": "1"})
    listed = list(page.context["page"].paginator.object_list)
    assert inside.pk in {c.pk for c in listed}
    assert all(c.step_due < today and c.status != "closed" for c in listed)
    assert "已超期" in page.content.decode()
    idle = client.get(reverse("violations"), {"kind": "idle"}).context["page"].paginator.object_list
    assert inside.pk not in {c.pk for c in idle} and all(c.kind.code == "idle" for c in idle)
    export = client.get(reverse("violations"), {"format": "csv"})
    assert export["Content-Type"].startswith("text/csv") and inside.number in export.content.decode(
        "utf-8-sig"
    )


def test_the_queue_does_not_query_per_row(client, cast, django_assert_max_num_queries):
    root = cast.users["city"]
    for n in range(12):
        case_at(cast.inside["district"], root, ref=f"many:{n}")
    client.force_login(cast.users["district"])
    with django_assert_max_num_queries(10):
        page = client.get(reverse("violations"))
    assert len(page.context["page"].object_list) >= 12


def test_a_case_is_worked_through_the_pages(client, cast, cases):
    inside, _ = cases
    client.force_login(cast.users["community"])
    url = reverse("violation", args=[inside.pk])
    client.post(
        reverse("violation-record", args=[inside.pk]), {"kind": "visit", "text": "入户核查"}
    )
    client.post(reverse("violation-conclude", args=[inside.pk]), {"found": "yes", "reason": "属实"})
    inside.refresh_from_db()
    assert inside.status == "deciding"
    assert "待县（区）住房保障部门作出处理决定" in client.get(url).content.decode()
    client.force_login(cast.users["district"])
    response = client.post(
        reverse("violation-decide", args=[inside.pk]),
        {
            "decision": "rectification",
            "reason": "限期腾出转借人员",
            "rectify_by": (timezone.localdate() + timedelta(days=20)).isoformat(),
            "propose_credit": "1",
            "credit_reason": "转借",
        },
    )
    assert response.status_code == 302
    inside.refresh_from_db()
    assert inside.status == "rectifying" and inside.proposed_credit["conduct"] == "sublet"
    page = client.get(url).content.decode()
    assert "违规处理决定：限期整改" in page  # the timeline


def test_complaints_are_triaged_in_the_county_queue_only(client, cast):
    inside = complaints.submit(
        estate_id=cast.inside["district"].pk,
        place="",
        kind_code="sublet",
        text="楼里这套房子一直是别人在住，不是原来的住户",
        anonymous=True,
        phone="",
    )
    outside = complaints.submit(
        estate_id=cast.outside.pk,
        place="",
        kind_code="",
        text="这套房子常年没人住，门口堆满广告",
        anonymous=True,
        phone="",
    )
    client.force_login(cast.users["district"])
    listed = {c.pk for c in client.get(reverse("violation-complaints")).context["page"].object_list}
    assert inside.pk in listed and outside.pk not in listed
    assert client.get(reverse("violation-complaint", args=[outside.pk])).status_code == 404
    assert (
        client.post(
            reverse("violation-complaint", args=[outside.pk]), {"action": "dismiss", "reason": "x"}
        ).status_code
        == 404
    )
    page = client.get(reverse("violation-complaint", args=[inside.pk]))
    assert page.status_code == 200 and inside.reference in page.content.decode()
    unit = unit_of(cast.inside["district"])
    response = client.post(
        reverse("violation-complaint", args=[inside.pk]),
        {"action": "open", "unit": unit.pk, "kind": "sublet"},
    )
    inside.refresh_from_db()
    assert inside.status == Complaint.Status.CASE and inside.case.unit_id == unit.pk
    assert response["Location"] == reverse("violation", args=[inside.case_id])


def test_idle_units_and_arrears_leads_are_listed_and_opened_within_the_jurisdiction(client, cast):
    last = date(2026, 6, 1)
    home, away = unit_of(cast.inside["district"]), unit_of(cast.outside)
    UtilityReading.objects.bulk_create(
        UtilityReading(unit=u, month=date(2026, m, 1), water_m3=0, electricity_kwh=2)
        for u in (home, away)
        for m in range(1, 7)
    )
    client.force_login(cast.users["operator"])
    page = client.get(reverse("violation-idle"), {"month": "2026-06"})
    assert [r["unit"].pk for r in page.context["rows"]] == [home.pk]
    client.post(reverse("violation-idle"), {"unit": away.pk, "month": "2026-06"})
    assert not ViolationCase.objects.filter(unit=away).exists()
    client.post(reverse("violation-idle"), {"unit": home.pk, "month": "2026-06"})
    case = ViolationCase.objects.get(unit=home, kind__code="idle")
    assert case.source == "utility" and len(case.evidence["readings"]) == 6
    assert "2026-06" in client.get(reverse("violation", args=[case.pk])).content.decode()
    assert last.strftime("%Y%m") in case.source_ref

    contract = lease(start=date(2025, 1, 1))
    warning = ArrearsWarning.objects.create(
        contract=contract, raised_at=timezone.now(), months=6, amount="1800.00"
    )
    county = make_staff("v-arrears", "district", region=contract.household.county)
    other = make_staff(
        "v-arrears-away",
        "district",
        region=type(contract.household.county)
        .objects.filter(level="district")
        .exclude(pk=contract.household.county_id)
        .first(),
    )
    client.force_login(other)
    assert warning.pk not in {
        w.pk for w in client.get(reverse("violation-arrears")).context["page"].object_list
    }
    client.post(reverse("violation-arrears"), {"warning": warning.pk})
    assert not ViolationCase.objects.filter(source="arrears", contract=contract).exists()
    client.force_login(county)
    client.post(reverse("violation-arrears"), {"warning": warning.pk})
    assert ViolationCase.objects.filter(source="arrears", contract=contract).count() == 1


def test_pending_tasks_count_what_the_lists_show(cast, cases):
    from backoffice.violations import pending_tasks

    inside, _ = cases
    worker = cast.users["community"]
    before = {t.label: t.count for t in pending_tasks(worker)}
    ViolationCase.objects.filter(pk=inside.pk).update(
        step_due=timezone.localdate() - timedelta(days=3)
    )
    after = {t.label: t.count for t in pending_tasks(worker)}
    assert after["违规案件：环节已超期"] == before["违规案件：环节已超期"] + 1
    mine = violations.cases_for(worker).exclude(status="closed")
    assert after["违规案件：未结案"] == mine.count() and inside in mine


def test_the_other_lists_do_not_query_per_row(client, cast, django_assert_max_num_queries):
    estate = cast.inside["district"]
    units = list(Unit.objects.filter(building__estate=estate).order_by("pk")[:8])
    for n, unit in enumerate(units):
        complaints.submit(
            estate_id=estate.pk,
            place="",
            kind_code="idle",
            text=f"第 {n} 户长期没有人住，门口广告很多",
            anonymous=True,
            phone="",
        )
        UtilityReading.objects.bulk_create(
            UtilityReading(unit=unit, month=date(2026, m, 1), water_m3=0, electricity_kwh=0)
            for m in range(1, 7)
        )
    client.force_login(cast.users["district"])
    for name in ("violation-complaints", "violation-idle", "violation-arrears", "inspections"):
        with django_assert_max_num_queries(12):
            assert client.get(reverse(name)).status_code == 200


def test_a_case_photo_is_served_only_through_its_own_case(client, cast, cases):
    from tests.tenancy.test_violations import jpeg_with_gps

    inside, outside = cases
    other_inside = case_at(cast.inside["district"], cast.users["city"], ref="t:other")
    record = violations.add_record(
        inside.pk,
        kind="visit",
        text="门口照片",
        photos=[("门口.jpg", jpeg_with_gps())],
        actor=cast.users["district"],
    )
    sha = record.photos.get().sha256
    client.force_login(cast.users["district"])
    shown = client.get(reverse("violation-photo", args=[inside.pk, sha]))
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"
    assert client.get(reverse("violation-photo", args=[other_inside.pk, sha])).status_code == 404
    client.force_login(cast.users["operator"])
    assert client.get(reverse("violation-photo", args=[inside.pk, sha])).status_code == 200
    client.force_login(make_staff("v-photo-away", "operator", operator=cast.outside.operator))
    assert client.get(reverse("violation-photo", args=[inside.pk, sha])).status_code == 404
    assert outside.pk  # the other county's case exists, and its photos are not reachable


def test_a_checked_utility_file_can_only_be_committed_by_who_uploaded_it(client, cast):
    client.force_login(cast.users["district"])
    other = cast.users["operator"]
    response = client.post(
        reverse("violation-utility-commit"), {"token": f"{other.pk}-abc.csv", "filename": "x"}
    )
    assert response.status_code == 403


@pytest.mark.parametrize("role", ["district", "community", "operator"])
def test_each_home_count_is_the_length_of_the_list_it_links_to(
    client, cast, cases, role, django_assert_max_num_queries
):
    from backoffice.violations import pending_tasks

    user = cast.users[role]
    home = unit_of(cast.inside["district"])
    UtilityReading.objects.bulk_create(
        UtilityReading(unit=home, month=date(2030, m, 1), water_m3=0, electricity_kwh=0)
        for m in range(1, 7)
    )  # the latest month of all: flagged, no case yet
    with django_assert_max_num_queries(6):
        tasks = pending_tasks(user)
    client.force_login(user)
    for task in tasks:
        page = client.get(task.url)
        if "rows" in page.context:
            shown = len(page.context["rows"])
        else:
            shown = page.context["page"].paginator.count
        assert shown == task.count, task.label
    idle = next(t for t in tasks if "闲置" in str(t.label))
    assert idle.count >= 1
