"""申请审核 lists for streets and communities: every case listed opens, and every case that opens
is listed; the queue's tabs show what they say."""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exchange.idcard import make_id_number
from geo.models import Region
from housing import services
from housing.models import Application

pytestmark = pytest.mark.django_db

CASE_LINK = re.compile(r'href="/staff/review/(\d+)/"')
NEXT_PAGE = re.compile(r'<a rel="next" href="([^"]+)"')


def new_case(seq: int, community: Region, stage: str = "accept") -> Application:
    """A submitted counter case, moved to `stage` without anyone deciding it."""
    street = community.parent
    application = Application(
        name="测试",
        id_number=make_id_number(street.parent.adcode, date(1981, 2, 3), seq),
        phone=f"1391111{seq:04d}",
        county=street.parent,
        street=street,
        community=community,
        consent=True,
    )
    services.save_application(application, [{"name": "测试", "relation": "本人"}], submit=True)
    Application.objects.filter(pk=application.pk).update(stage=stage)
    return Application.objects.get(pk=application.pk)


def decide(application: Application, user, decision: str = "pass") -> None:
    services.decide(
        application.pk,
        decision=decision,
        opinion="材料齐全" if decision == "pass" else "请补充材料",
        actor=user,
        expected_step=application.stage,
    )


def listed(client, url: str) -> list[int]:
    """The case ids a list shows, following its pages."""
    found: list[int] = []
    while url:
        html = client.get(url).content.decode()
        found += [int(pk) for pk in CASE_LINK.findall(html)]
        following = NEXT_PAGE.search(html)
        url = (
            reverse("review-queue") + following.group(1).replace("&amp;", "&") if following else ""
        )
    return found


@pytest.fixture
def cases(cast) -> dict[str, Application]:
    """Cases at every step in the community's street, some handled by its workers, and cases
    next door; enough for the listing to have two pages."""
    community = cast.users["community"].staff_profile.region
    street = community.parent
    neighbour = Region.objects.filter(parent=street).exclude(pk=community.pk).first()
    other_street = Region.objects.filter(parent=street.parent).exclude(pk=street.pk).first()
    made = {}
    seq = 700
    for where, place in [("home", community), ("neighbour", neighbour)]:
        for stage in ["accept", "first_review", "data_check", "second_review", "approved"]:
            for i in range(3):
                seq += 1
                made[f"{where}-{stage}-{i}"] = new_case(seq, place, stage)
    for i in range(28):  # each worker's own step: past one page of 30
        made[f"bulk-{i}"] = new_case(seq + 1, neighbour, "first_review")
        made[f"bulk-accept-{i}"] = new_case(seq + 2, community, "accept")
        seq += 2
    made["elsewhere"] = new_case(seq + 1, other_street.children.first(), "accept")
    # Handled cases stay visible to who handled them after they move on.
    accepted = made["home-accept-0"]
    decide(accepted, cast.users["community"])
    decide(Application.objects.get(pk=accepted.pk), cast.users["street"])
    decide(made["home-first_review-0"], cast.users["street"])
    decide(made["home-accept-1"], cast.users["community"], "return")
    return made


@pytest.mark.parametrize("role", ["street", "community"])
def test_every_case_listed_opens_and_every_case_that_opens_is_listed(client, cast, cases, role):
    client.force_login(cast.users[role])
    shown = listed(client, reverse("review-queue") + "?show=all")
    assert len(shown) == len(set(shown)), "a case is listed twice"
    assert len(shown) > 30, "the test needs the listing to run over two pages"
    opens = {
        a.pk
        for a in Application.objects.exclude(stage="draft")
        if client.get(reverse("review-detail", args=[a.pk])).status_code == 200
    }
    assert set(shown) == opens
    handled = cases["home-accept-0"]
    assert handled.pk in opens, "a case the worker passed on stays open to them"
    assert cases["elsewhere"].pk not in opens


def test_departments_list_and_open_every_case_in_their_area(client, cast, cases):
    client.force_login(cast.users["district"])
    county = cast.users["district"].staff_profile.region
    shown = set(listed(client, reverse("review-queue") + "?show=all"))
    area = set(
        Application.objects.filter(county=county)
        .exclude(stage="draft")
        .values_list("pk", flat=True)
    )
    assert shown == area
    assert client.get(reverse("review-detail", args=[max(area)])).status_code == 200


def test_the_tabs_show_waiting_overdue_and_returned_cases(client, cast, cases):
    street = cast.users["street"]
    late = cases["bulk-0"]
    Application.objects.filter(pk=late.pk).update(
        stage_deadline=timezone.now() - timedelta(hours=1)
    )
    decide(cases["bulk-1"], street, "return")
    client.force_login(street)
    queue = reverse("review-queue")
    waiting = set(listed(client, queue))
    assert late.pk in waiting and cases["bulk-1"].pk not in waiting
    assert all(Application.objects.get(pk=pk).stage == "first_review" for pk in waiting)
    assert set(listed(client, queue + "?show=overdue")) == {late.pk}
    assert set(listed(client, queue + "?show=returned")) == {cases["bulk-1"].pk}


def test_the_all_listing_keeps_its_tab_on_the_next_page(client, cast, cases):
    client.force_login(cast.users["street"])
    html = client.get(reverse("review-queue") + "?show=all").content.decode()
    assert 'href="?show=all&amp;page=2"' in html


def test_listing_queries_do_not_grow_with_the_cases(
    client, cast, cases, django_assert_max_num_queries
):
    client.force_login(cast.users["street"])
    url = reverse("review-queue") + "?show=all"
    client.get(url)
    with django_assert_max_num_queries(12):
        client.get(url)
