"""工作台: the start page lists the user's pending work, within their jurisdiction and role, and
each count is the length of the list it links to."""

import json
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allocation.models import Offer, Round
from allocation.services import rounds
from backoffice.pending import offer_warning
from disclosure.models import Objection, Publication
from geo.models import Region, Unit
from housing.models import Applicant, Application, IdentityClaim
from insights.warnings import rules
from tenancy.models import OperatorScore
from tenancy.services.evaluation import Quarter
from tests.backoffice.test_review_listing import decide, new_case

pytestmark = pytest.mark.django_db

TASK = re.compile(
    r'<a class="todo-item[^"]*" href="([^"]+)"><strong class="todo-count">(\d+)</strong>'
    r'<span class="todo-label">([^<]+)'
)
NEXT_PAGE = re.compile(r'<a rel="next" href="([^"]+)"')
# What one row of each linked list looks like.
ROWS = {
    "review-queue": re.compile(r'href="/staff/review/\d+/"'),
    "allocation-rounds": re.compile(r'href="/staff/allocation/rounds/\d+/"'),
    "review-claims": re.compile(r'href="/staff/review/claims/\d+/"'),
    "publishing-objections": re.compile(r'<article class="objection">'),
    "contracts": re.compile(r'href="/staff/contracts/(?:\d+/"|offers/\d+/new/")'),
    # 运营管理 (issue 13): each queue's rows link to one case, or (renewals' leases ending
    # soon, utility and arrears leads) show the lease or the unit to act on.
    "recheck": re.compile(r'href="/staff/operations/recheck/\d+/"'),
    "recheck-runs": re.compile(r'<span class="tag tag--bad">'),  # an interrupted run
    "annual-reviews": re.compile(r'href="/staff/operations/annual-reviews/\d+/"'),
    "renewals": re.compile(
        r'href="/staff/operations/renewals/\d+/"'
        r'|<td data-label="合同"><a href="/staff/contracts/\d+/"'
    ),
    "repairs": re.compile(r'href="/staff/operations/repairs/\d+/"'),
    "violations": re.compile(r'href="/staff/operations/violations/\d+/"'),
    "violation-complaints": re.compile(r'href="/staff/operations/violations/complaints/\d+/"'),
    "violation-idle": re.compile(r'<tr><td data-label="项目" lang="zh-Hans">'),
    "violation-arrears": re.compile(r'<tr><td data-label="合同编号">'),
    "inspections": re.compile(r'<li class="card"><a href="/staff/inspections/units/\d+/"'),
    "exits": re.compile(r'href="/staff/operations/exits/\d+/"'),
    "evaluation": re.compile(r'<tr><td class="num" data-label="排名">'),
    # 信用管理 (issue 14): proposals due or objected to, records with a repair to review
    "credit-proposals": re.compile(r'href="/staff/credit/proposals/\d+/"'),
    "credit-records": re.compile(r'href="/staff/credit/records/\d+/"'),
    # 自动预警 (issue 16): the centre's rows, and the unread 站内信
    "warnings": re.compile(r'<td data-label="预警" lang="zh-Hans">'),
    "staff-messages": re.compile(r'<span class="tag tag--bad">未读</span>'),
}


def tasks(client) -> dict[str, tuple[int, str]]:
    """label → (count, link) as the start page shows them."""
    html = client.get(reverse("staff-home")).content.decode()
    return {label: (int(n), url.replace("&amp;", "&")) for url, n, label in TASK.findall(html)}


def rows_at(client, url: str) -> int:
    """How many rows the linked list shows, over all its pages."""
    path = url.split("?")[0]
    pattern = next(p for name, p in ROWS.items() if reverse(name) == path)
    total = 0
    while url:
        html = client.get(url).content.decode()
        total += len(pattern.findall(html))
        following = NEXT_PAGE.search(html)
        url = path + following.group(1).replace("&amp;", "&") if following else ""
    return total


@pytest.fixture
def work(cast) -> dict:
    """Something of every kind waiting in the district's county (谯城区)."""
    district = cast.users["district"]
    community = cast.users["community"].staff_profile.region
    county = community.parent.parent
    late = new_case(801, community, "data_check")
    Application.objects.filter(pk=late.pk).update(stage_deadline=timezone.now() - timedelta(days=1))
    returned = new_case(802, community, "second_review")
    decide(returned, district, "return")
    ready = new_case(803, community, "publicity")
    new_case(804, community, "accept")
    new_case(805, community, "first_review")
    IdentityClaim.objects.create(
        claimant=Applicant.objects.create(phone="13900008800"),
        application=late,
        id_number=late.id_number,
        reason="clash",
    )
    notice = Publication.objects.filter(region=county).order_by("pk").first()
    Objection.objects.create(
        publication=notice, item_key="X", name="邻居", contact="138", reason="有房"
    )
    taken = Round.objects.exclude(status="closed").values("round_units__unit")
    units = Unit.objects.filter(building__estate__district=county, status="vacant").exclude(
        pk__in=taken
    )
    draft = rounds.create_round(
        county,
        name="测试草稿批次",
        unit_ids=list(units.values_list("pk", flat=True)[:2]),
        invitation=Round.Invitation.HEAD,
        invite_count=1,
        actor=district,
    )
    soon = Offer.objects.filter(round__county=county, status="pending")
    soon.update(expires_at=timezone.now() + timedelta(hours=5))
    return {"late": late, "returned": returned, "ready": ready, "draft": draft, "county": county}


def test_the_district_sees_each_kind_of_pending_work(client, cast, work):
    client.force_login(cast.users["district"])
    shown = tasks(client)
    assert shown["已超时的申请"][0] >= 1
    assert shown["退回补正、等待申请人"][0] >= 1
    assert shown["待核实的身份认领"][0] == 1
    assert shown["待处理的公示异议"][0] == 1
    assert shown["待发布公告的批次草稿"][0] == 1
    ready = Application.objects.filter(
        county=work["county"], stage="publicity", review_outbox__isnull=True
    )
    assert shown["审核通过、待发起公示的家庭"][0] == ready.count() >= 1
    queue = client.get(shown["审核通过、待发起公示的家庭"][1]).content.decode()
    assert 'id="publicity"' in queue and f"发起{work['county'].name}审核公示" in queue
    expiring = [label for label in shown if label.startswith("即将到期、尚未确认的配租（")]
    assert expiring, "the demo round's pending offer expires within hours"
    count, link = shown[expiring[0]]
    round_ = Round.objects.get(name=expiring[0].removeprefix("即将到期、尚未确认的配租（")[:-1])
    assert link == reverse("allocation-round", args=[round_.pk]) + "#board"
    assert count == round_.offers.filter(status="pending").count()


def test_due_soon_follows_the_warning_centres_threshold(client, cast, work, tmp_path, monkeypatch):
    """The start page and the warning centre call the same offers "about to expire": a city
    that shortens offer_expiring in data/warning-rules.json shortens both."""
    client.force_login(cast.users["district"])
    Offer.objects.filter(round__county=work["county"], status="pending").update(
        expires_at=timezone.now() + timedelta(hours=30)
    )
    assert any(label.startswith("即将到期、尚未确认的配租（") for label in tasks(client))
    data = json.loads(rules.RULES_FILE.read_text(encoding="utf-8"))
    for rule in data["rules"]:
        if rule["code"] == "offer_expiring":
            rule["thresholds"]["hours"] = 24
    shorter = tmp_path / "warning-rules.json"
    shorter.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr(rules, "RULES_FILE", shorter)
    assert not any(label.startswith("即将到期、尚未确认的配租（") for label in tasks(client))


@pytest.mark.parametrize("role", ["city", "district", "street", "community"])
def test_every_count_is_the_length_of_the_list_it_links_to(client, cast, work, role):
    client.force_login(cast.users[role])
    shown = tasks(client)
    assert shown, "the start page lists the role's work"
    checked = 0
    for label, (count, url) in shown.items():
        if "#" in url:
            continue  # a section of a page (the publicity buttons, a round's board): above
        assert rows_at(client, url) == count, label
        checked += 1
    assert checked >= 3


def test_streets_and_communities_see_only_their_review_work(client, cast, work):
    for role in ("street", "community"):
        client.force_login(cast.users[role])
        html = client.get(reverse("staff-home")).content.decode()
        assert "待我办理的申请" in html
        for other in ("待核实的身份认领", "待处理的公示异议", "待发布公告的批次草稿"):
            assert other not in html, (role, other)
    client.force_login(cast.users["community"])
    waiting, _url = tasks(client)["待我办理的申请"]
    community = cast.users["community"].staff_profile.region
    assert (
        waiting
        == Application.objects.filter(community=community, stage="accept", returned=False).count()
    )


def test_an_operator_sees_its_leases_and_rent_but_no_review_work(client, cast, work):
    client.force_login(cast.users["operator"])
    shown = tasks(client)
    assert "待审核签章的合同" in shown and "未解除的欠租预警" in shown
    for other in ("待我办理的申请", "待处理的公示异议", "待发布公告的批次草稿"):
        assert other not in shown
    for label in ("待生成合同的配租", "待审核签章的合同", "已签订、待办理入住"):
        assert rows_at(client, shown[label][1]) == shown[label][0], label


def test_another_county_s_work_is_not_counted(client, cast, work):
    woyang = Region.objects.get(adcode="341621")
    before = tasks(client_for(client, cast.users["district"]))
    new_case(806, woyang.children.first().children.first(), "data_check")
    Objection.objects.create(
        publication=Publication.objects.filter(region=woyang).first()
        or Publication.objects.exclude(region=work["county"]).first(),
        item_key="Y",
        name="某人",
        contact="139",
        reason="外县",
    )
    assert tasks(client) == before


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["city", "district", "street"])
def test_the_start_page_takes_a_few_queries_however_much_waits(
    client, cast, work, role, django_assert_max_num_queries
):
    client.force_login(cast.users[role])
    client.get(reverse("staff-home"))
    with CaptureQueriesContext(connection) as first:
        client.get(reverse("staff-home"))
    community = cast.users["community"].staff_profile.region
    for seq in range(810, 816):
        new_case(seq, community, "data_check")
    Offer.objects.filter(status="pending").update(expires_at=timezone.now() + offer_warning() / 2)
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(reverse("staff-home"))
    with django_assert_max_num_queries(HARD_CAP):
        client.get(reverse("staff-home"))


# The start page at its busiest (the city; a county has one review aggregate more and no
# scores): 4 queries to know who asks (session, user, profile, region) and 4 for the stock
# summary beside the list, then one per group of counts, each an aggregate over its list's own
# filter: review 2 (the review chains, claims), publishing 1, allocation 3 (the counties, rounds,
# expiring offers), contracts 2 (leases, accepted offers), and 运营管理 15: arrears warnings 1,
# re-check 2 (hits, the latest run), annual reviews 1, renewals 2 (requests, leases ending),
# repairs 1, violations 6 (cases, the rules, the latest utility month, idle units, complaints,
# arrears leads), exits 1, the operators' scores 1; 信用管理 2 (proposals, repairs); 自动预警 1
# (the live warnings per rule and the unread 站内信, one UNION).
HARD_CAP = 4 + 4 + 2 + 1 + 3 + 2 + 15 + 2 + 1


def test_the_city_is_sent_to_score_the_operators(client, cast, work):
    """The scores' count is of those to publish, so it links to the form that publishes."""
    client.force_login(cast.users["city"])
    last = Quarter.of(timezone.localdate()).previous()
    shown = tasks(client)
    count, url = shown[f"考核评价：{last.label} 待公开"]
    assert count == OperatorScore.objects.filter(quarter=last.name, published_at=None).count()
    assert url == reverse("evaluation") + f"?quarter={last.name}#compute-title"
    assert 'id="compute-title"' in client.get(url).content.decode()
    client.force_login(cast.users["district"])
    assert not [label for label in tasks(client) if label.startswith("考核评价")]


def test_rounds_are_counted_by_the_step_they_wait_for(client, cast, work):
    """A round announced three days ago reaches its lottery date; the demo's choosing round
    runs out of time slots with nothing left to confirm: each is counted at the step it now
    waits for, and listed there."""
    county = work["county"]
    choosing = Round.objects.get(county=county, status="choosing")
    client.force_login(cast.users["district"])
    before = tasks(client)
    assert before["已到开奖日期、待摇号的批次"][0] == 0
    assert before["选房时段已全部结束、待结束的批次"][0] == 0

    start = timezone.now() - timedelta(days=3)
    drawable = rounds.announce(
        work["draft"].pk,
        lottery_name="双色球",
        lottery_date=(start + timedelta(days=2)).date(),
        lottery_sources=2,
        actor=cast.users["district"],
        now=start,
    )
    choosing.slots.update(closes_at=timezone.now() - timedelta(minutes=1))
    choosing.offers.filter(status="pending").update(status="expired")
    after = tasks(client)
    for label, round_ in [
        ("已到开奖日期、待摇号的批次", drawable),
        ("选房时段已全部结束、待结束的批次", choosing),
    ]:
        count, url = after[label]
        assert count == 1, label
        html = client.get(url).content.decode()
        assert reverse("allocation-round", args=[round_.pk]) in html
        assert "只显示：" + label in html
