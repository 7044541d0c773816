"""保障对象: made once from an application approved when its publicity ends, with its members'
relations coded after GB/T 4761, then enrolled once in its county's waitlist."""

from datetime import date, timedelta

import pytest

from allocation.models import WaitlistEntry
from allocation.services.waitlist import enrol_waiting_households, policy_for
from exchange.idcard import make_id_number
from housing import services
from housing.households import relation_code
from housing.models import Application, Household, Relation
from tests.allocation.conftest import publish_pending

pytestmark = pytest.mark.django_db


def person(seq: int, born: date) -> str:
    return make_id_number("349901", born, seq)


def application_at_publicity(place, members: list[dict], *, name: str, number: str) -> Application:
    application = Application(
        name=name,
        id_number=number,
        phone="13912340001",
        county=place.county,
        street=place.street,
        community=place.community,
        consent=True,
        priorities=["dibao", "elderly"],
    )
    services.save_application(application, members, submit=True)
    # The review chain has its own tests (tests/housing); here the case is at 公示.
    Application.objects.filter(pk=application.pk).update(stage=Application.Stage.PUBLICITY)
    services.start_publicity(place.county, actor=None)
    publish_pending()
    application.refresh_from_db()
    return application


def finish_publicity_of(application: Application) -> None:
    notice = services.publication_of(application)
    assert notice is not None and notice.period_ends_at is not None
    services.finish_publicity(now=notice.period_ends_at + timedelta(seconds=1))


def test_household_is_made_once_when_publicity_ends_and_enrolled_once(place):
    head = person(101, date(1975, 3, 1))
    daughter = person(102, date(2005, 6, 1))  # sequence digit 2: even, a woman
    assert int(daughter[16]) % 2 == 0
    members = [
        {"name": "张晓明", "relation": "本人", "id_number": head},
        {"name": "李秀英", "relation": "妻子", "id_number": person(103, date(1976, 4, 1))},
        {"name": "张志强", "relation": "儿子", "id_number": person(105, date(2003, 5, 1))},
        {"name": "张丽华", "relation": "子女", "id_number": daughter},
        {"name": "王桂兰", "relation": "母亲", "id_number": person(107, date(1950, 7, 1))},
    ]
    application = application_at_publicity(place, members, name="张晓明", number=head)
    assert not Household.objects.filter(pk=application.pk).exists(), "not before publicity ends"

    finish_publicity_of(application)
    application.refresh_from_db()
    assert application.stage == Application.Stage.APPROVED

    household = Household.objects.get(application=application)
    assert household.pk == application.pk
    assert household.public_key == application.public_key
    assert household.head_name == "张晓明" and household.head_id_number == head
    assert household.county == place.county
    assert household.status == Household.Status.WAITING
    assert household.priorities == ["dibao", "elderly"]
    coded = {m.name: m.relation for m in household.members.all()}
    assert coded == {
        "张晓明": Relation.SELF,  # 01
        "李秀英": Relation.SPOUSE,  # 10
        "张志强": Relation.SON,  # 20
        "张丽华": Relation.DAUGHTER,  # 30: 子女 decided by the ID's sex digit
        "王桂兰": Relation.PARENT,  # 50
    }
    assert [m.relation for m in household.members.all()] == ["01", "10", "20", "30", "50"]
    assert household.size == household.members.count() == 5

    # The sweep runs again later: still one household.
    finish_publicity_of(application)
    assert Household.objects.filter(application=application).count() == 1

    assert enrol_waiting_households() >= 1
    entry = WaitlistEntry.objects.get(household=household)
    assert entry.county == place.county
    assert entry.status == WaitlistEntry.Status.WAITING
    assert entry.priority_rank == policy_for(place.county).priority_groups.index("dibao")
    assert entry.queued_at == household.approved_at
    assert enrol_waiting_households() == 0, "a second sweep enrols nobody"
    assert WaitlistEntry.objects.filter(household=household).count() == 1


def test_the_applicant_is_always_a_member_coded_self(place):
    head = person(111, date(1980, 1, 1))
    members = [{"name": "刘建华", "relation": "丈夫", "id_number": person(113, date(1979, 2, 2))}]
    application = application_at_publicity(place, members, name="陈玉芳", number=head)
    finish_publicity_of(application)
    household = Household.objects.get(pk=application.pk)
    assert {(m.name, m.relation) for m in household.members.all()} == {
        ("陈玉芳", Relation.SELF),
        ("刘建华", Relation.SPOUSE),
    }
    assert household.size == 2


def test_an_application_still_in_publicity_makes_no_household(place):
    head = person(121, date(1982, 1, 1))
    himself = [{"name": "赵国强", "relation": "本人", "id_number": head}]
    application = application_at_publicity(place, himself, name="赵国强", number=head)
    notice = services.publication_of(application)
    services.finish_publicity(now=notice.period_ends_at - timedelta(hours=1))
    assert not Household.objects.filter(pk=application.pk).exists()
    enrol_waiting_households()
    assert not WaitlistEntry.objects.filter(household_id=application.pk).exists()


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("本人", "01"),
        ("户主", "01"),
        ("配偶", "10"),
        ("妻", "10"),
        ("子", "20"),
        ("长子", "20"),
        ("女", "30"),
        ("次女", "30"),
        ("外孙女", "40"),
        ("父母", "50"),
        ("岳母", "50"),
        ("奶奶", "60"),
        ("姐姐", "70"),
        ("侄子", "80"),
        ("保姆", "99"),
    ],
)
def test_written_relations_get_their_gb_t_4761_code(written, code):
    assert relation_code(written) == code


def test_a_child_written_as_zinv_is_coded_by_the_id_sex_digit():
    assert relation_code("子女", person(3, date(2010, 1, 1))) == Relation.SON
    assert relation_code("子女", person(4, date(2010, 1, 1))) == Relation.DAUGHTER
