"""The search box finds estates and places by name, address, pinyin, initials, and with typos."""

import pytest

from geo.models import Estate, Region
from geo.pinyin import pinyin_keys, search_keys
from geo.search import search_places

pytestmark = pytest.mark.django_db


@pytest.fixture
def estate() -> Estate:
    return Estate.objects.published().order_by("pk").first()


def names(text: str) -> list[str]:
    return [hit.name for hit in search_places(text)]


def test_pinyin_keys():
    assert pinyin_keys("幸福家园") == ("xingfujiayuan", "xfjy")
    assert pinyin_keys("谯城区") == ("qiaochengqu", "qcq")


def test_by_exact_name_comes_first(estate):
    hits = search_places(estate.name)
    assert hits[0].name == estate.name
    assert hits[0].url == f"/estates/{estate.pk}/"


def test_by_part_of_the_address(estate):
    road = estate.address.split("街道")[-1].split("路")[0] + "路"
    assert estate.name in names(road)


def test_by_full_pinyin_and_by_initials(estate):
    full, initials = pinyin_keys(estate.name)
    assert estate.name in names(full)
    # Initials can be shared by several names: the estate is among the hits.
    assert estate.name in names(initials)
    assert estate.name in names(initials.upper())


def test_with_a_homophone_typo(estate):
    # Pinyin input methods often pick the wrong character with the same sound.
    first = estate.name[0]
    homophones = {
        "幸": "姓",
        "和": "河",
        "安": "按",
        "康": "抗",
        "阳": "杨",
        "锦": "紧",
        "丽": "力",
        "惠": "会",
        "福": "服",
        "颐": "宜",
        "书": "输",
        "翠": "脆",
    }
    typo = homophones.get(first)
    if typo is None:
        target = Estate.objects.published().filter(name__regex=f"^[{''.join(homophones)}]").first()
        assert target is not None
        estate, first = target, target.name[0]
        typo = homophones[first]
    assert estate.name in names(typo + estate.name[1:])


def test_with_a_latin_typo(estate):
    full, _ = pinyin_keys(estate.name)
    swapped = full[:-2] + full[-1] + full[-2]  # two letters swapped at the end
    assert estate.name in names(swapped)


def test_streets_and_communities_are_found_by_name_and_pinyin():
    street = Region.objects.filter(level="street").order_by("adcode").first()
    hits = search_places(street.name)
    assert hits[0].name == street.name and hits[0].kind == "street"
    assert hits[0].url == f"/?street={street.adcode}"
    community = Region.objects.filter(level="community").order_by("adcode").first()
    assert community.name in names(pinyin_keys(community.name)[0])


def test_unpublished_estates_are_never_found():
    hidden = Estate.objects.filter(published=False).first()
    assert hidden.name not in names(hidden.name)


def test_empty_and_long_queries():
    assert search_places("   ") == []
    assert isinstance(search_places("很" * 500), list)


@pytest.mark.parametrize("text", ["1-2", "A-1", "！", "_", "%", "１号楼", "\\"])
def test_punctuation_and_house_numbers_do_not_break_search(client, text):
    assert isinstance(search_places(text), list)
    assert client.get("/api/search/", {"q": text}).status_code == 200
    assert client.get("/search/", {"q": text}).status_code == 200


def test_search_keys_hold_the_name_then_the_address_word_by_word():
    assert search_keys("安居新村", "谯城区青云街道康宁路48号") == (
        "anjuxincun qiaochengqu qingyunjiedao kangninglu 48hao",
        "ajxc qcq qyjd knl 48h",
    )
    assert search_keys("汤陵一社区") == ("tanglingyishequ", "tlysq")


def estate_hits(text: str) -> set[str]:
    return {h.name for h in search_places(text, limit=100) if h.kind == "estate"}


@pytest.mark.parametrize(
    ("chinese", "pinyin", "initials"),
    [
        ("汤陵", "tangling", "tl"),
        ("汤陵街道", "tanglingjiedao", "tljd"),
        ("利辛", "lixin", "lx"),
        ("南湖街道", "nanhujiedao", "nhjd"),
        ("古井", "gujing", "gj"),
    ],
)
def test_pinyin_and_initials_find_the_estates_chinese_finds(chinese, pinyin, initials):
    # What the Chinese finds here is every published estate with the place in its address.
    located = set(
        Estate.objects.published().filter(address__contains=chinese).values_list("name", flat=True)
    )
    assert located, f"the demo city has estates in {chinese}"
    assert estate_hits(chinese) == located
    assert estate_hits(pinyin) == located
    assert estate_hits(initials) == located


def test_places_do_not_crowd_out_estates():
    # 南湖 names a street and four communities in each of two counties: ten places.
    hits = search_places("nanhu")
    kinds = [h.kind for h in hits]
    assert len(hits) == 10
    assert kinds.count("estate") >= 6
    assert {"street", "community"} & set(kinds)  # the places keep a share of the list
    assert estate_hits("nanhu") >= {h.name for h in hits if h.kind == "estate"}


def test_a_place_typed_exactly_comes_first_then_its_estates():
    hits = search_places("tanglingjiedao")
    assert (hits[0].name, hits[0].kind) == ("汤陵街道", "street")
    assert {h.name for h in hits if h.kind == "estate"} == estate_hits("汤陵街道")


def test_the_documented_examples_are_true_in_the_demo_city():
    # README and the empty-result hint: ajxc and anju find 安居新村.
    assert names("ajxc")[0] == "安居新村"
    assert names("anju")[0] == "安居新村"


def test_an_empty_result_suggests_a_real_estate_and_its_initials(client):
    html = client.get("/search/", {"q": "zzzzqqq"}).content.decode()
    first = Estate.objects.published().order_by("pk").first()
    initials = pinyin_keys(first.name)[1]
    assert f'“<span lang="zh-Hans">{first.name}</span>”可输入“{initials}”' in html
    assert first.name in names(initials)
