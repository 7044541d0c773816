"""Masking, property by property: what the public sees of names, ID numbers and phones."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from disclosure.masking import UnsafeColumn, mask_id_number, mask_name, mask_phone, mask_rows

HANZI = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)


@given(st.text(HANZI, min_size=3, max_size=8))
def test_long_names_keep_first_and_last_character_only(name):
    masked = mask_name(name)
    assert len(masked) == len(name)
    assert masked[0] == name[0] and masked[-1] == name[-1]
    assert set(masked[1:-1]) == {"*"}


@given(st.text(HANZI, min_size=2, max_size=2))
def test_two_character_names_keep_the_surname(name):
    assert mask_name(name) == name[0] + "*"


def test_examples_from_the_brief():
    assert mask_name("张三明") == "张*明"
    assert mask_name("张三") == "张*"
    assert mask_id_number("340321199001011234") == "340321********1234"
    assert mask_phone("13856785678") == "138****5678"


@given(st.from_regex(r"\A[1-6]\d{16}[\dX]\Z"))
def test_id_numbers_keep_region_and_last_four(number):
    masked = mask_id_number(number)
    assert masked == number[:6] + "*" * 8 + number[-4:]
    assert number not in masked


@given(st.from_regex(r"\A1[3-9]\d{9}\Z"))
def test_mobiles_keep_prefix_and_last_four(phone):
    masked = mask_phone(phone)
    assert masked == phone[:3] + "****" + phone[-4:]
    assert phone not in masked


@given(st.from_regex(r"\A1[3-9]\d{9}\Z"))
def test_phones_written_with_separators_are_masked_the_same(phone):
    spaced = f"{phone[:3]}-{phone[3:7]} {phone[7:]}"
    assert mask_phone(spaced) == mask_phone(phone)


@pytest.mark.parametrize("kind", ["income", "health", "address", "made_up"])
def test_columns_that_must_never_be_published_are_refused(kind):
    with pytest.raises(UnsafeColumn):
        mask_rows([{"key": "x", "label": "x", "kind": kind}], [{"_key": "1", "x": 1}])


def test_only_declared_columns_survive():
    rows = mask_rows(
        [{"key": "name", "label": "姓名", "kind": "name"}],
        [{"_key": "A1", "name": "王小二", "income": 1000, "id": "340321199001011234"}],
    )
    assert rows == [{"_key": "A1", "name": "王*二"}]
