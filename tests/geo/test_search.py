"""The search box finds estates and places by name, address, pinyin, initials, and with typos."""

import pytest

from geo.models import Estate, Region
from geo.pinyin import pinyin_keys
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
