"""GB 11643 resident ID numbers: the check digit catches every single-digit error."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exchange.idcard import check_digit, make_id_number, validate_id_number


def test_the_standard_example_and_a_hand_computed_check_digit():
    assert validate_id_number("11010519491231002X") is None  # GB 11643's own example
    assert check_digit("11010519491231002") == "X"
    # 3·7+4·9+0·10+3·5+2·8+1·4+1·2+9·1+9·6+0·3+0·7+1·9+0·10+1·5+1·8+2·4+3·2 = 193; 193 mod 11 = 6
    assert check_digit("34032119900101123") == "6"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "校验位"),
        ("11010519491231002", "18 位"),
        ("1101051949123100AX", "前 17 位"),
        ("110105194913310025", "出生日期"),
        ("110105219912310028", "出生日期"),
    ],
)
def test_invalid_numbers_say_why(number, reason):
    assert reason in validate_id_number(number)


@given(
    st.sampled_from(["341602", "341621", "341622", "341623"]),
    st.dates(min_value=date(1930, 1, 1), max_value=date(2008, 12, 31)),
    st.integers(min_value=0, max_value=999),
    st.integers(min_value=0, max_value=16),
    st.integers(min_value=1, max_value=9),
)
def test_generated_numbers_are_valid_and_any_changed_digit_is_caught(region, born, seq, pos, delta):
    number = make_id_number(region, born, seq)
    assert validate_id_number(number) is None
    digits = list(number)
    digits[pos] = str((int(digits[pos]) + delta) % 10)
    altered = "".join(digits)
    assert validate_id_number(altered) is not None
