"""系统管理 · 区县政策, the lists: priority groups, unit sizes, subsidy tiers and reminder days
are edited as rows, refused by row and column when wrong, and apply to the next decision."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from allocation import selectors
from allocation.models import AllocationPolicy, WaitlistEntry
from allocation.services.waitlist import policy_for as allocation_policy
from archive.models import Event
from backoffice.system.policy_services import current
from geo.models import Region
from housing.models import Household
from tenancy import subsidy
from tenancy.models import ReviewPolicy, TenancyPolicy
from tenancy.services.contracts import policy_for as tenancy_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(cast):
    return cast.users["district"]  # an account administrator of 相山区 (tests/personas.py)


@pytest.fixture
def county(admin) -> Region:
    return admin.staff_profile.region


def url(county) -> str:
    return reverse("system-policy", args=[county.pk])


def rows(section: str, reason: str, items: list[dict]) -> dict:
    """The POST of a list section: one row per item, then a blank row."""
    data = {"section": section, "reason": reason, "rows": str(len(items) + 1)}
    for i, item in enumerate(items):
        data |= {f"r{i}-{k}": v for k, v in item.items()}
    return data


def groups(*codes: str) -> dict:
    return rows("priority_groups", "按新办法调整优先顺序", [{"group": c} for c in codes])


def policy_events() -> int:
    return Event.objects.filter(action="policy.changed").count()


def test_a_priority_group_change_reranks_the_waitlist(client, admin, county):
    entries = list(
        WaitlistEntry.objects.filter(county=county, status="waiting").order_by("household_id")[:3]
    )
    assert len(entries) == 3, "the demo city has households waiting in 相山区"
    elderly, dibao, sent_back = (e.household_id for e in entries)
    Household.objects.filter(pk=elderly).update(priorities=["elderly"])
    Household.objects.filter(pk__in=[dibao, sent_back]).update(priorities=["dibao"])
    approved = dict(
        Household.objects.filter(pk__in=[elderly, dibao, sent_back]).values_list(
            "pk", "approved_at"
        )
    )
    for pk in (elderly, dibao):  # queued from their approval, as enrol() does
        WaitlistEntry.objects.filter(pk=pk).update(queued_at=approved[pk])
    # Sent to the end of the list for refusing offers: queued again after its approval.
    WaitlistEntry.objects.filter(pk=sent_back).update(
        queued_at=approved[sent_back] + timedelta(days=1)
    )
    client.force_login(admin)

    def ranks() -> dict[int, int]:
        return dict(
            WaitlistEntry.objects.filter(pk__in=[elderly, dibao, sent_back]).values_list(
                "pk", "priority_rank"
            )
        )

    client.post(url(county), groups("elderly", "dibao"))
    assert allocation_policy(county).priority_groups == ["elderly", "dibao"]
    assert ranks() == {elderly: 0, dibao: 1, sent_back: 2}
    client.post(url(county), groups("dibao", "elderly"))
    assert ranks() == {elderly: 1, dibao: 0, sent_back: 2}
    order = [e.pk for e in selectors.waiting_entries(county)]
    assert order.index(dibao) < order.index(elderly) < order.index(sent_back)

    # The history names the change, who made it and why.
    event = Event.objects.filter(action="policy.changed").order_by("-id").first()
    assert event.before == {"priority_groups": ["elderly", "dibao"]}
    assert event.after["priority_groups"] == ["dibao", "elderly"] and event.actor == admin
    history = client.get(reverse("system-policy-history", args=[county.pk])).content.decode()
    assert "老年人家庭 → 低保/特困家庭" in history and "按新办法调整优先顺序" in history
    assert admin.username in history


def test_a_repeated_priority_group_is_refused_by_row(client, admin, county):
    before, count = allocation_policy(county).priority_groups, policy_events()
    client.force_login(admin)
    page = client.post(url(county), groups("elderly", "dibao", "elderly")).content.decode()
    assert "第 3 行 优先群体：“老年人家庭”已在第 1 行列出。" in page
    assert allocation_policy(county).priority_groups == before and policy_events() == count


def test_size_rules_change_the_rooms_offered_next(client, admin, county):
    client.force_login(admin)
    rules = [
        {"members_up_to": "1", "min_rooms": "1", "max_rooms": "1"},
        {"members_up_to": "3", "min_rooms": "2", "max_rooms": "2"},
        {"members_up_to": "", "min_rooms": "2", "max_rooms": "3"},
    ]
    client.post(url(county), rows("size_rules", "新建小区户型调整", rules))
    assert allocation_policy(county).rooms_for(2) == (2, 2)
    assert AllocationPolicy.objects.get(county=county).size_rules[-1]["members_up_to"] is None

    count, saved = policy_events(), allocation_policy(county).size_rules
    bad = [dict(rules[0]), {"members_up_to": "3", "min_rooms": "3", "max_rooms": "2"}, rules[2]]
    page = client.post(url(county), rows("size_rules", "x", bad)).content.decode()
    assert "第 2 行 最多居室：不得小于最少居室。" in page
    page = client.post(url(county), rows("size_rules", "x", rules[:2])).content.decode()
    assert "第 2 行 家庭人口不超过（人，末行留空为不限）：最后一行须留空" in page
    page = client.post(
        url(county), rows("size_rules", "x", [rules[0] | {"max_rooms": "十"}, rules[2]])
    ).content.decode()
    assert "第 1 行 最多居室：请填写整数。" in page
    assert allocation_policy(county).size_rules == saved and policy_events() == count


def test_a_new_subsidy_tier_changes_the_next_subsidy(client, admin, county):
    rent = Decimal("500.00")

    def off(income: str) -> Decimal:
        return subsidy.monthly_subsidy(
            rent,
            priorities=[],
            income_per_head=Decimal(income),
            tiers=tenancy_policy(county).subsidy_tiers,
        )

    client.force_login(admin)
    tiers = [
        {"kind": "priority:dibao", "tenant_share": "0.10"},
        {"kind": "income", "income_below": "1000", "subsidy_share": "0.60"},
    ]
    client.post(url(county), rows("subsidy_tiers", "首次设置", tiers))
    assert off("1500") == Decimal("0.00")
    tiers.append({"kind": "income", "income_below": "2000", "subsidy_share": "0.20"})
    client.post(url(county), rows("subsidy_tiers", "新增第三档", tiers))
    assert off("1500") == Decimal("100.00")  # the new tier: 20 % of 500
    assert TenancyPolicy.objects.get(county=county).subsidy_tiers[-1] == {
        "income_per_head_below": "2000",
        "subsidy_share": "0.20",
    }
    history = client.get(reverse("system-policy-history", args=[county.pk])).content.decode()
    assert "人均月收入低于 2000 元：补贴 0.20" in history and "新增第三档" in history

    count, saved = policy_events(), tenancy_policy(county).subsidy_tiers
    wrong = [
        tiers[0] | {"subsidy_share": "0.5"},  # a group tier carries the tenant's share only
        tiers[2],
        tiers[1],  # a lower bound after a higher one would never apply
        {"kind": "income", "income_below": "3000", "subsidy_share": "1.5"},
    ]
    page = client.post(url(county), rows("subsidy_tiers", "x", wrong)).content.decode()
    assert "第 1 行 补贴比例（收入档，0–1）：群体档不填此项，请留空。" in page
    assert "第 4 行 补贴比例（收入档，0–1）：须在 0 到 1 之间。" in page
    page = client.post(url(county), rows("subsidy_tiers", "x", tiers[::-1])).content.decode()
    assert "第 2 行 人均月收入低于（元，收入档）：须高于第 1 行的 2000 元" in page
    assert tenancy_policy(county).subsidy_tiers == saved and policy_events() == count


def test_reminder_days_are_edited_as_a_list_and_refused_by_item(client, admin, county):
    client.force_login(admin)
    tenancy = {"section": "tenancy", "reason": "增加提醒"} | {
        k: v for k, v in current(county, "tenancy").items() if k != "reminder_days"
    }
    client.post(url(county), tenancy | {"reminder_days": "15，3、7"})
    assert TenancyPolicy.objects.get(county=county).reminder_days == [3, 7, 15]
    reviews = {"section": "reviews", "reason": "提前提醒"} | current(county, "reviews")
    client.post(url(county), reviews | {"reminder_days": "3, 20"})
    assert ReviewPolicy.objects.get(county=county).reminder_days == [20, 3]

    count = policy_events()
    page = client.post(url(county), tenancy | {"reminder_days": "3, x"}).content.decode()
    assert "逾期提醒（天）：第 2 项“x”不是整数天数。" in page
    page = client.post(url(county), tenancy | {"reminder_days": "3, 3"}).content.decode()
    assert "第 2 项 3 重复" in page
    assert TenancyPolicy.objects.get(county=county).reminder_days == [3, 7, 15]
    assert policy_events() == count


def test_a_county_admin_cannot_change_another_countys_lists(client, admin, cast):
    other = Region.objects.get(adcode="341621")
    before = allocation_policy(other).priority_groups
    client.force_login(admin)
    assert client.post(url(other), groups("special_job")).status_code == 404
    assert allocation_policy(other).priority_groups == before
    client.force_login(cast.users["city"])  # the city's administrator may
    page = client.get(url(other)).content.decode()
    assert 'name="r0-group"' in page and 'name="r0-members_up_to"' in page
