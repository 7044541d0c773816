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


ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@pytest.mark.parametrize(
    "number",
    [
        "11010519491231002X".translate(ARABIC_INDIC),  # str.isdigit() and int() take these
        "1101051949123100²X",  # isdigit() is True, int() fails: was an HTTP 500
        "11010519491231002X".translate(FULLWIDTH),
        "١1010519491231002X",
    ],
)
def test_only_ascii_digits_count(number):
    assert len(number) == 18
    assert "半角数字" in validate_id_number(number)


def test_a_line_break_inside_is_not_a_digit():
    assert "前 17 位" in validate_id_number("1101051949123100\n2")


def test_the_region_must_be_a_real_province():
    assert "地区代码" in validate_id_number(make_id_number("990105", date(1980, 1, 1), 1))
    assert "地区代码" in validate_id_number(make_id_number("001234", date(1980, 1, 1), 1))


@pytest.mark.parametrize("region", ["341602", "341621", "341622", "341623"])
def test_demo_regions_validate_for_people_born_before_their_district_existed(region):
    # stdnum's own place check ties 3416xx to births from 2000 on; real holders are older.
    for born in (date(1930, 1, 1), date(1985, 6, 30), date(2008, 12, 31)):
        assert validate_id_number(make_id_number(region, born, 123)) is None


SUPERSCRIPT = "1101051949123100²X"
ARABIC = "11010519491231002X".translate(ARABIC_INDIC)


@pytest.fixture
def applicant_client(client, db):
    from housing.models import Applicant
    from housing.views import SESSION_KEY

    applicant = Applicant.objects.create(phone="13900009999")
    session = client.session
    session[SESSION_KEY] = applicant.pk
    session.save()
    return client


@pytest.mark.parametrize("number", [SUPERSCRIPT, ARABIC])
@pytest.mark.parametrize("action", ["save", "submit", "prefill"])
def test_the_apply_form_refuses_other_digits_with_the_reason(applicant_client, number, action):
    from housing.models import Application

    response = applicant_client.post(
        "/apply/",
        {
            "action": action,
            "name": "张三",
            "id_number": number,
            "consent": "on",
            "m-TOTAL_FORMS": "1",
            "m-INITIAL_FORMS": "0",
            "m-0-name": "李四",
            "m-0-relation": "配偶",
            "m-0-id_number": number,
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "半角数字" in response.content.decode()
    assert not Application.objects.filter(name="张三", id_number=number).exists()


@pytest.mark.parametrize("number", [SUPERSCRIPT, ARABIC])
def test_the_counter_form_refuses_other_digits_with_the_reason(client, cast, number):
    client.force_login(cast.users["district"])
    response = client.post(
        "/staff/review/counter/",
        {"phone": "13900008888", "name": "王五", "id_number": number, "consent": "on"}
        | {"m-TOTAL_FORMS": "0", "m-INITIAL_FORMS": "0"},
    )
    assert response.status_code == 200
    assert "半角数字" in response.content.decode()


def test_another_spelling_of_a_number_cannot_open_a_second_application(db):
    from housing import services
    from housing.models import Application

    spelled = make_id_number("341602", date(1980, 2, 2), 7).translate(ARABIC_INDIC)
    with pytest.raises(services.NotAllowed, match="半角数字"):
        services.save_application(
            Application(name="赵六", id_number=spelled, phone="13900007777", consent=True),
            [],
            submit=True,
        )
