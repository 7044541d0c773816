"""系统管理 · 失信行为目录: the city's administrators edit, add and switch off conducts; the next
认定 uses the catalogue as it is then, a record already decided keeps its own terms."""

from datetime import date, datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from archive.models import Event
from credit import services as credit
from credit.models import Conduct
from credit.services import add_months
from exchange.idcard import make_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(cast):
    return cast.users["city"]  # the city's account administrator (tests/personas.py)


def form(conduct: Conduct, reason: str = "按新办法调整", **changes) -> dict:
    data = {
        "name": conduct.name,
        "level": conduct.level,
        "effect_months": str(conduct.effect_months),
        "effects": list(conduct.effects),
        "consequence": conduct.consequence,
        "reason": reason,
    }
    if conduct.active:
        data["active"] = "on"
    return data | changes


def propose(conduct: Conduct, county, actor, seq: int):
    subject = credit.person("测试人", make_id_number(county.adcode, date(1980, 1, 1), seq))
    return credit.propose(
        subject=subject,
        conduct_code=conduct.code,
        county=county,
        source="manual",
        facts="测试：转租承租住房。",
        actor=actor,
    )


def decide(proposal, actor):
    after = proposal.objection_until + timedelta(days=1)
    later = timezone.make_aware(datetime.combine(after, time(10)))
    return credit.confirm(proposal.pk, decision="经核查属实。", actor=actor, now=later)


def test_a_change_applies_to_the_next_decision_not_to_records_made(client, city, cast):
    county = cast.users["district"].staff_profile.region
    conduct = Conduct.objects.get(code="sublet")
    old = decide(propose(conduct, county, city, 971), city)
    client.force_login(city)
    answer = client.post(
        reverse("system-catalogue-conduct", args=[conduct.pk]),
        form(conduct, level="serious", effect_months="24", effects=["renew"]),
    )
    assert answer.status_code == 302
    new = decide(propose(conduct, county, city, 972), city)
    assert (new.level, new.effects) == ("serious", ["renew"])
    assert new.effective_until == add_months(new.decided_on, 24)
    old.refresh_from_db()
    assert (old.level, old.effective_until) == ("severe", add_months(old.decided_on, 60))

    event = Event.objects.filter(action="credit.conduct_changed").order_by("-id").first()
    assert event.before == {"level": "severe", "effect_months": 60, "effects": ["apply", "renew"]}
    assert event.after == {
        "conduct_id": conduct.pk,
        "code": "sublet",
        "level": "serious",
        "effect_months": 24,
        "effects": ["renew"],
    }
    assert (event.actor, event.reason) == (city, "按新办法调整")
    page = client.get(reverse("system-catalogue-conduct", args=[conduct.pk])).content.decode()
    assert "按新办法调整" in page


def test_a_new_conduct_is_used_and_a_used_one_is_switched_off_not_deleted(client, city, cast):
    county = cast.users["district"].staff_profile.region
    client.force_login(city)
    data = {
        "code": "fake-lease",
        "name": "伪造租赁合同骗取补贴",
        "stage": "use",
        "level": "severe",
        "effect_months": "60",
        "effects": ["apply", "renew"],
        "consequence": "5 年内不得申请公共租赁住房",
        "active": "on",
        "reason": "市住建局新增",
    }
    assert client.post(reverse("system-catalogue"), data).status_code == 302
    conduct = Conduct.objects.get(code="fake-lease")
    assert Event.objects.filter(action="credit.conduct_added", after__code="fake-lease").exists()
    propose(conduct, county, city, 973)  # usable at once

    delete = reverse("system-catalogue-delete", args=[conduct.pk])
    client.post(delete, {"reason": "误添加"})
    assert Conduct.objects.filter(pk=conduct.pk).exists(), "a conduct once used stays"
    client.post(
        reverse("system-catalogue-conduct", args=[conduct.pk]),
        form(conduct, reason="停用") | {"active": ""},
    )
    conduct.refresh_from_db()
    assert not conduct.active
    with pytest.raises(credit.CreditError):
        propose(conduct, county, city, 974)

    unused = Conduct.objects.create(
        code="typo", name="误加", stage="use", level="minor", effect_months=12, consequence="无"
    )
    client.post(reverse("system-catalogue-delete", args=[unused.pk]), {"reason": "误添加"})
    assert not Conduct.objects.filter(pk=unused.pk).exists()
    assert Event.objects.filter(action="credit.conduct_deleted", before__code="typo").exists()


def test_bad_input_is_refused_by_field_and_nothing_is_written(client, city):
    conduct = Conduct.objects.get(code="refuse-allocation")
    client.force_login(city)
    events = Event.objects.count()
    edit = reverse("system-catalogue-conduct", args=[conduct.pk])
    page = client.post(edit, form(conduct, effect_months="0")).content.decode()
    assert "影响期限（月）：不得小于 1。" in page
    page = client.post(edit, form(conduct, reason="")).content.decode()
    assert "修改原因：请填写。" in page
    # The system proposes this one itself after repeated refusals: it cannot be switched off.
    page = client.post(edit, form(conduct) | {"active": ""}).content.decode()
    assert "由系统自动提出认定，不能停用" in page
    page = client.post(
        reverse("system-catalogue"),
        {"code": "sublet", "name": "重复", "stage": "use", "level": "minor"}
        | {"effect_months": "12", "consequence": "无", "reason": "x"},
    ).content.decode()
    assert "代码：“sublet”已被使用，请换一个。" in page
    assert Event.objects.count() == events
    assert Conduct.objects.get(pk=conduct.pk).active


def test_only_the_citys_administrators_edit_the_catalogue(client, cast):
    conduct = Conduct.objects.get(code="sublet")
    for role in ("district", "street", "operator"):  # a county's administrator included
        client.force_login(cast.users[role])
        assert client.get(reverse("system-catalogue")).status_code == 403
        edit = reverse("system-catalogue-conduct", args=[conduct.pk])
        assert client.post(edit, form(conduct, effect_months="1")).status_code == 403
    assert Conduct.objects.get(pk=conduct.pk).effect_months == 60


def test_the_catalogue_page_does_not_grow_in_queries(client, city, django_assert_max_num_queries):
    client.force_login(city)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("system-catalogue"))
    for n in range(5):
        Conduct.objects.create(
            code=f"many-{n}", name=f"新增{n}", stage="use", level="minor", effect_months=12
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(reverse("system-catalogue")).content.decode()
    assert page.count("many-") >= 5
