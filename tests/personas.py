"""Personas: one staff member per role, each with a jurisdiction in the demo city."""

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model

from backoffice.models import StaffProfile
from geo.models import Estate, Operator, Region

Role = StaffProfile.Role
PASSWORD = "correct-horse-battery-9"


@dataclass
class Cast:
    users: dict
    inside: dict  # role -> an estate inside that role's jurisdiction
    outside: Estate  # an estate outside every non-city jurisdiction below


def make_staff(username: str, role: str, region=None, operator=None):
    user = get_user_model().objects.create_user(username, password=PASSWORD)
    StaffProfile.objects.create(user=user, role=role, region=region, operator=operator)
    return user


@pytest.fixture
def cast(db) -> Cast:
    home = Estate.objects.filter(district__adcode="341602", community__isnull=False).first()
    community = home.community
    street = home.street
    district = home.district
    city = district.parent
    operator = home.operator
    outside = (
        Estate.objects.exclude(district=district).exclude(operator=operator).order_by("pk").first()
    )
    users = {
        "city": make_staff("p-city", Role.CITY, region=city),
        "district": make_staff("p-district", Role.DISTRICT, region=district),
        "street": make_staff("p-street", Role.STREET, region=street),
        "community": make_staff("p-community", Role.COMMUNITY, region=community),
        "operator": make_staff("p-operator", Role.OPERATOR, operator=operator),
        "outsider": get_user_model().objects.create_user("p-outsider", password=PASSWORD),
    }
    # The city's and the county's staff here administer accounts and rules (系统管理).
    StaffProfile.objects.filter(user__in=[users["city"], users["district"]]).update(is_admin=True)
    inside = {role: home for role in ["district", "street", "community", "operator"]}
    inside["city"] = outside  # the city sees every county
    assert Region.objects.get(pk=outside.district_id).parent_id == city.pk
    assert Operator.objects.filter(pk=operator.pk).exists()
    return Cast(users=users, inside=inside, outside=outside)
