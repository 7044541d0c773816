"""系统管理: account administrators manage staff accounts inside their area and at or below
their level, and change their county's rules with a reason; every change is an archive event;
/admin/ is for superusers only."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse

from archive.models import Event
from backoffice.models import StaffProfile
from backoffice.system.policies import _eligibility_initial
from geo.models import Operator, Region
from housing.models import CountyPolicy, EligibilityRule
from housing.rules import apply_rules
from tests.personas import PASSWORD, make_staff

pytestmark = pytest.mark.django_db

User = get_user_model()


def sign_in(client, username: str, password: str):
    return client.post(reverse("staff-login"), {"username": username, "password": password})


def signs_in(client, username: str, password: str) -> bool:
    """A real sign-in through the door (django-axes and all), then the back office opens."""
    client.logout()
    response = sign_in(client, username, password)
    ok = response.status_code == 302 and client.get(reverse("staff-home")).status_code == 200
    client.logout()
    return ok


def password_on(response) -> str:
    html = response.content.decode()
    start = html.index('<code class="password">') + len('<code class="password">')
    return html[start : html.index("</code>", start)]


@pytest.fixture
def district_admin(cast):
    return cast.users["district"]  # an account administrator of 相山区 (tests/personas.py)


@pytest.fixture
def county(district_admin) -> Region:
    return district_admin.staff_profile.region


def create(client, **data):
    return client.post(reverse("system-account-new"), {"name": "张三", **data})


def events(action: str) -> int:
    return Event.objects.filter(action=action).count()


def test_a_district_admin_creates_a_street_account_that_signs_in(client, district_admin, county):
    street = Region.objects.filter(parent=county).order_by("adcode").first()
    client.force_login(district_admin)
    response = create(client, username="new-street", role="street", region=street.pk)
    assert response.status_code == 200
    password = password_on(response)
    profile = StaffProfile.objects.get(user__username="new-street")
    assert (profile.role, profile.region, profile.is_admin) == ("street", street, False)
    event = Event.objects.get(action="staff.created", after__username="new-street")
    assert event.actor == district_admin and event.after["region_id"] == street.pk
    assert password not in str(event.before) + str(event.after) + event.summary
    assert signs_in(client, "new-street", password)


def test_an_admin_cannot_grant_above_their_level_or_outside_their_area(
    client, district_admin, county
):
    other_county = Region.objects.get(adcode="341621")
    stranger = Operator.objects.create(name="外县物业服务有限公司")  # no estate in 相山区
    street = Region.objects.filter(parent=county).order_by("adcode").first()
    refused = {
        "city role": ({"role": "city", "region": county.parent_id}, "角色："),
        "district elsewhere": ({"role": "district", "region": other_county.pk}, "所辖区域："),
        "street elsewhere": (
            {"role": "street", "region": other_county.children.first().pk},
            "所辖区域：",
        ),
        "operator elsewhere": ({"role": "operator", "operator": stranger.pk}, "运营单位："),
        "admin above": ({"role": "city", "region": county.parent_id, "is_admin": "on"}, "角色："),
        "operator admin": (
            {
                "role": "operator",
                "operator": Operator.objects.filter(estates__district=county).first().pk,
                "is_admin": "on",
            },
            "账号管理员：",
        ),
        "region of another level": ({"role": "street", "region": county.pk}, "所辖区域："),
    }
    client.force_login(district_admin)
    users, created = User.objects.count(), events("staff.created")
    for case, (data, error) in refused.items():
        response = create(client, username=f"x-{len(case)}", **data)
        assert response.status_code == 200, case
        assert error in response.content.decode(), case
    assert User.objects.count() == users and events("staff.created") == created
    # Nor can an account outside the area be edited into one's own: it does not exist here.
    city_account = make_staff("other-city", "city", region=county.parent)
    elsewhere = make_staff("other-district", "district", region=other_county)
    for target in (city_account, elsewhere):
        url = reverse("system-account", args=[target.pk])
        assert client.get(url).status_code == 404
        answer = client.post(url, {"name": "改", "role": "street", "region": street.pk})
        assert answer.status_code == 404
        assert (
            client.post(reverse("system-account-act", args=[target.pk, "disable"])).status_code
            == 404
        )
    assert StaffProfile.objects.get(user=city_account).role == "city"
    assert User.objects.get(pk=elsewhere.pk).is_active


def test_the_service_refuses_what_the_form_would_not_offer(district_admin, county):
    from backoffice.system import accounts_services as services

    grant = services.Grant(role="city", region=county.parent, operator=None, is_admin=True)
    with pytest.raises(services.NotAllowed):
        services.create_account(username="sneaky", name="x", grant=grant, actor=district_admin)
    assert not User.objects.filter(username="sneaky").exists()


def test_nobody_edits_their_own_account(client, district_admin, county):
    client.force_login(district_admin)
    url = reverse("system-account", args=[district_admin.pk])
    assert "不能修改自己的角色" in client.get(url).content.decode()
    assert (
        client.post(url, {"name": "x", "role": "district", "region": county.pk}).status_code == 403
    )
    act = reverse("system-account-act", args=[district_admin.pk, "disable"])
    assert client.post(act).status_code == 403
    assert User.objects.get(pk=district_admin.pk).is_active


def test_non_admins_are_refused(client, cast, county):
    clerk = make_staff("plain-district", "district", region=county)
    peer = make_staff("plain-peer", "street", region=Region.objects.filter(parent=county).first())
    for user in (clerk, cast.users["street"], cast.users["operator"]):
        client.force_login(user)
        assert client.get(reverse("system")).status_code == 200
        assert client.get(reverse("system-accounts")).status_code == 403
        assert client.get(reverse("system-account-new")).status_code == 403
        assert client.get(reverse("system-policies")).status_code == 403
    client.force_login(clerk)
    assert client.get(reverse("system-account", args=[peer.pk])).status_code == 403
    assert client.post(reverse("system-account-act", args=[peer.pk, "disable"])).status_code == 403
    assert client.get(reverse("system-policy", args=[county.pk])).status_code == 403
    assert User.objects.get(pk=peer.pk).is_active


def test_disabling_ends_the_accounts_access(client, district_admin, county):
    clerk = make_staff("to-disable", "street", region=Region.objects.filter(parent=county).first())
    other = client.__class__()
    assert other.post(reverse("staff-login"), {"username": "to-disable", "password": PASSWORD})
    assert other.get(reverse("staff-home")).status_code == 200
    client.force_login(district_admin)
    client.post(reverse("system-account-act", args=[clerk.pk, "disable"]))
    assert not User.objects.get(pk=clerk.pk).is_active
    assert other.get(reverse("staff-home")).status_code == 302  # the open session ends
    assert not signs_in(client.__class__(), "to-disable", PASSWORD)
    assert Event.objects.get(action="staff.disabled").after == {
        "username": "to-disable",
        "is_active": False,
    }
    client.post(reverse("system-account-act", args=[clerk.pk, "enable"]))
    assert signs_in(client.__class__(), "to-disable", PASSWORD)
    assert events("staff.enabled") == 1


def test_a_reset_password_works_and_the_old_one_fails(client, district_admin, county):
    clerk = make_staff(
        "to-reset", "community", region=Region.objects.filter(parent__parent=county).first()
    )
    client.force_login(district_admin)
    response = client.post(reverse("system-account-act", args=[clerk.pk, "reset-password"]))
    assert response.status_code == 200 and "no-cache" in response.get("Cache-Control", "")
    fresh = password_on(response)
    assert signs_in(client.__class__(), "to-reset", fresh)
    assert not signs_in(client.__class__(), "to-reset", PASSWORD)
    event = Event.objects.get(action="staff.password_reset")
    assert fresh not in str(event.after) and event.actor == district_admin


def test_unlock_clears_a_lockout(client, district_admin, county):
    clerk = make_staff("to-unlock", "street", region=Region.objects.filter(parent=county).first())
    door = client.__class__()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(door, "to-unlock", "wrong")
    assert sign_in(door, "to-unlock", PASSWORD).status_code == 429
    client.force_login(district_admin)
    page = client.get(reverse("system-account", args=[clerk.pk])).content.decode()
    assert "登录已锁定" in page
    client.post(reverse("system-account-act", args=[clerk.pk, "unlock"]))
    assert sign_in(door, "to-unlock", PASSWORD).status_code == 302
    assert Event.objects.get(action="staff.unlocked").after["username"] == "to-unlock"


def test_editing_an_account_records_before_and_after(client, district_admin, county):
    streets = list(Region.objects.filter(parent=county).order_by("adcode")[:2])
    clerk = make_staff("to-move", "street", region=streets[0])
    client.force_login(district_admin)
    client.post(
        reverse("system-account", args=[clerk.pk]),
        {"name": "李四", "role": "street", "region": streets[1].pk, "is_admin": "on"},
    )
    profile = StaffProfile.objects.get(user=clerk)
    assert (profile.region, profile.is_admin) == (streets[1], True)
    event = Event.objects.get(action="staff.changed")
    assert event.before == {
        "name": "",
        "region": streets[0].name,
        "region_id": streets[0].pk,
        "is_admin": False,
    }
    assert event.after["region_id"] == streets[1].pk and event.after["is_admin"] is True


def test_the_account_list_does_not_grow_in_queries(
    client, district_admin, county, django_assert_max_num_queries
):
    street = Region.objects.filter(parent=county).first()
    client.force_login(district_admin)
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("system-accounts"))
    for n in range(20):
        make_staff(f"many-{n}", "street", region=street)
    with django_assert_max_num_queries(len(few.captured_queries)):
        html = client.get(reverse("system-accounts"), {"q": "many-"}).content.decode()
    assert html.count("many-") >= 20


def eligibility_form(county, **changes) -> dict:
    data = {k: "" if v is None else v for k, v in _eligibility_initial(county).items()}
    return {"section": "eligibility", "reason": "按新标准调整", **data, **changes}


def test_a_policy_change_takes_effect_and_is_in_the_history(client, district_admin, county):
    client.force_login(district_admin)
    url = reverse("system-policy", args=[county.pk])
    facts = {"income_per_head": Decimal("1500")}

    def income_passes() -> bool:
        rules = list(EligibilityRule.objects.filter(county=county))
        return next(f for f in apply_rules(rules, facts) if f.criterion == "income_per_head").passed

    changes = {"income_per_head:operator": "lte", "income_per_head:unit": "元"}
    client.post(url, eligibility_form(county, **changes, **{"income_per_head:threshold": "1000"}))
    assert not income_passes()
    client.post(url, eligibility_form(county, **changes, **{"income_per_head:threshold": "2000"}))
    assert income_passes()  # the data check and the self-check read the new standard
    latest = Event.objects.filter(action="policy.changed").order_by("-id").first()
    assert latest.before == {"income_per_head": "lte 1000.00 元"}
    assert latest.after == {
        "county_id": county.pk,
        "section": "eligibility",
        "income_per_head": "lte 2000.00 元",
    }
    assert latest.reason == "按新标准调整" and latest.actor == district_admin
    history = client.get(reverse("system-policy-history", args=[county.pk])).content.decode()
    assert "lte 1000.00 元 → lte 2000.00 元" in history and "按新标准调整" in history

    # The review chain's deadlines: a step's days change, the other steps keep theirs.
    review = {"section": "review", "reason": "提速"} | {
        k: v for k, v in _review_values(county).items()
    }
    client.post(url, review | {"days:first_review": "9"})
    policy = CountyPolicy.objects.get(county=county)
    assert policy.step("first_review")["days"] == 9
    assert policy.step("accept")["days"] == _review_values(county)["days:accept"]


def _review_values(county) -> dict:
    from backoffice.system.policy_services import current

    return current(county, "review")


def test_bad_policy_input_is_refused_by_field_and_nothing_is_written(
    client, district_admin, county
):
    client.force_login(district_admin)
    url = reverse("system-policy", args=[county.pk])
    before = events("policy.changed")
    values = _review_values(county)
    page = client.post(
        url, {"section": "review", "reason": "x", **values, "publicity_working_days": "6"}
    ).content.decode()
    assert "公示期（工作日）：不得小于 7。" in page
    page = client.post(
        url, {"section": "review", "reason": "", **values, "publicity_working_days": "9"}
    ).content.decode()
    assert "修改原因：请写明修改原因。" in page
    page = client.post(
        url,
        eligibility_form(
            county, **{"vehicle_value:operator": "lte", "vehicle_value:threshold": ""}
        ),
    ).content.decode()
    assert "须填写标准" in page
    assert events("policy.changed") == before
    assert _review_values(county)["publicity_working_days"] == values["publicity_working_days"]


def test_a_county_admin_cannot_touch_another_countys_policy(client, district_admin, cast):
    other = Region.objects.get(adcode="341621")
    client.force_login(district_admin)
    for name in ("system-policy", "system-policy-history"):
        assert client.get(reverse(name, args=[other.pk])).status_code == 404
    answer = client.post(
        reverse("system-policy", args=[other.pk]),
        {"section": "review", "reason": "x", "publicity_working_days": "20"},
    )
    assert answer.status_code == 404
    assert not CountyPolicy.objects.filter(county=other, publicity_working_days=20).exists()
    client.force_login(cast.users["city"])  # the city's administrator may
    assert client.get(reverse("system-policy", args=[other.pk])).status_code == 200


def test_the_admin_site_is_for_superusers_only(client, cast):
    clerk = cast.users["city"]
    clerk.is_staff = True
    clerk.save(update_fields=["is_staff"])
    client.force_login(clerk)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.get("/admin/geo/estate/").status_code == 302
    root = User.objects.create_superuser("root-system", password="root-system-pw-9")
    client.force_login(root)
    assert client.get("/admin/").status_code == 200


def test_the_module_is_in_the_navigation(client, district_admin):
    client.force_login(district_admin)
    html = client.get(reverse("staff-home")).content.decode()
    assert f'href="{reverse("system")}"' in html
