"""Personal numbers at rest: a copy of the database shows no ID or phone number, people are
still found by number, and keys can be rotated without losing anyone."""

from datetime import date

import pytest
from cryptography.fernet import Fernet
from django.core import checks
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from archive import crypto
from exchange.idcard import make_id_number
from exchange.models import Evidence
from exchange.synthetic import person_name
from geo.models import Region
from housing.models import Applicant, Application, Household

pytestmark = pytest.mark.django_db

# Schemas of the apps that hold people; every column of every row is searched as text.
PEOPLE_TABLES = (
    "housing_",
    "exchange_",
    "allocation_",
    "archive_",
    "disclosure_",
    "procrastinate_",
    "django_session",
)
ID_NUMBER = r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])"
MOBILE = r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])"


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND (" + " OR ".join(["tablename LIKE %s"] * len(PEOPLE_TABLES)) + ")",
            [f"{p}%" for p in PEOPLE_TABLES],
        )
        return [t for (t,) in cursor.fetchall()]


def _plain_numbers(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT substring(t::text from %s) FROM "{table}" t WHERE t::text ~ %s '
            f"OR t::text ~ %s LIMIT 3",
            [f"({ID_NUMBER}|{MOBILE})", ID_NUMBER, MOBILE],
        )
        return [found for (found,) in cursor.fetchall()]


def test_the_demo_city_leaves_no_id_or_phone_number_readable_in_the_database():
    assert Application.objects.count() > 50 and Evidence.objects.count() > 50  # the demo city
    tables = _tables()
    assert "housing_application" in tables and "exchange_evidence" in tables
    leaks = {t: found for t in tables if (found := _plain_numbers(t))}
    assert not leaks, f"plain personal numbers: {leaks}"


def test_people_are_found_by_number_and_read_back_in_plain():
    application = Application.objects.exclude(stage="draft").order_by("pk").first()
    found = Application.objects.get(id_number=application.id_number.lower())  # x or X alike
    assert found.pk == application.pk
    assert found.id_number == application.id_number and len(found.id_number) == 18
    assert found.phone.isdigit() and len(found.phone) == 11
    applicant = Applicant.objects.get(phone=application.applicant.phone)
    assert applicant.pk == application.applicant_id
    assert Application.objects.filter(id_number__in=[application.id_number, "x"]).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM housing_application WHERE id = %s", [found.pk])
        (stored,) = cursor.fetchone()
    assert application.id_number not in stored and crypto.decrypt(stored) == found.id_number


def test_lookups_that_would_need_the_plain_text_are_refused():
    with pytest.raises(FieldError, match="encrypted"):
        list(Application.objects.filter(id_number__startswith="3416"))
    with pytest.raises(FieldError, match="encrypted"):
        list(Evidence.objects.filter(payload__name="张三"))


def test_one_open_application_per_person_still_holds_on_the_blind_index():
    taken = Application.objects.exclude(stage__in=["draft", "rejected"]).first()
    twin = Application.objects.get(pk=taken.pk)
    twin.pk, twin.number, twin.public_key = None, "SQ2099-000001", "TWIN0001"
    twin.id_number = taken.id_number.lower()  # the same person, spelt differently
    with pytest.raises(IntegrityError, match="one_open_application"), transaction.atomic():
        twin.save()


def test_rotation_moves_every_row_to_the_new_key_and_the_old_key_can_go(settings):
    old = settings.ANJU_DATA_KEYS
    household = Household.objects.order_by("pk").first()
    new = Fernet.generate_key().decode()
    with override_settings(ANJU_DATA_KEYS=[new, *old]):
        call_command("rotate_data_keys", verbosity=0)
    with override_settings(ANJU_DATA_KEYS=[new]):  # the old keys are gone
        again = Household.objects.get(head_id_number=household.head_id_number)
        assert again.phone == household.phone
        assert Evidence.objects.order_by("pk").first().payload  # JSON documents too
        assert not _plain_numbers("housing_household")


def test_a_new_blind_index_key_finds_people_after_reindexing(settings):
    application = Application.objects.exclude(stage="draft").order_by("pk").first()
    with override_settings(ANJU_BLIND_INDEX_KEY="another-index-key-" + "k" * 32):
        assert not Application.objects.filter(id_number=application.id_number).exists()
        call_command("rotate_data_keys", verbosity=0)
        assert Application.objects.get(id_number=application.id_number).pk == application.pk


def test_starting_without_keys_is_a_clear_error(settings):
    settings.ANJU_DATA_KEYS = []
    errors = [e for e in checks.run_checks() if e.id == "anju.E002"]
    assert errors and "ANJU_DATA_KEYS" in errors[0].msg


def test_new_records_are_encrypted_from_the_first_save():
    county = Region.objects.get(adcode="341602")
    street = county.children.first()
    number = make_id_number("341602", date(1990, 1, 1), 951)
    application = Application.objects.create(
        number="SQ2099-000951",
        name=person_name(number),
        id_number=number,
        phone="13700009510",
        county=county,
        street=street,
        community=street.children.first(),
        prefilled={"members": [{"id_number": number}]},
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT row_to_json(a)::text FROM housing_application a WHERE id = %s",
            [application.pk],
        )
        (row,) = cursor.fetchone()
    assert number not in row and "13700009510" not in row
    assert Application.objects.get(pk=application.pk).prefilled["members"][0]["id_number"] == number


def test_a_prefilled_household_waits_in_the_session_encrypted(client, platform_settings):
    from tests.housing.test_review_path import person, sign_in

    name, number = person(952)
    sign_in(client, "13700009520")
    response = client.post("/apply/", {"action": "prefill", "name": name, "id_number": number})
    assert "已从公安户籍读取家庭成员" in response.content.decode()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT session_data FROM django_session WHERE session_key = %s",
            [client.session.session_key],
        )
        (stored,) = cursor.fetchone()
    from django.contrib.sessions.backends.db import SessionStore

    decoded = str(SessionStore().decode(stored))
    assert "prefill" in decoded and number not in decoded and name not in decoded
