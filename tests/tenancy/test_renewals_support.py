"""Helpers of the annual review and renewal tests (no tests here): department answers a test
chooses, and the tenant's client session."""

from datetime import date, timedelta

from django.utils import timezone

from exchange.sources import Answer, SourceUnavailable, SyntheticSource
from housing.models import Household
from tenancy.models import Contract
from tests.tenancy.rent import lease


class Departments:
    """The demo platform, except that the household owns `properties` flats (a fact that
    breaks the county's property rule) and `down` departments do not answer."""

    name = "测试部门数据"

    def __init__(self, properties: int = 0, down: tuple[str, ...] = ()):
        self.properties, self.down, self.asked = properties, down, []

    def fetch(self, department: str, id_number: str) -> Answer:
        self.asked.append(department)
        if department in self.down:
            raise SourceUnavailable(f"{department} 未响应")
        payload = dict(SyntheticSource().fetch(department, id_number).payload)
        if department == "property":
            payload["properties"] = [{"area": 90, "address": "某小区"}] * self.properties
        if department == "police":
            payload["vehicles"], payload["hukou_since"] = [], 2000
        if department == "tax":
            payload["monthly_income"] = 1200
        if department == "market":
            payload["businesses"] = []
        if department == "social":
            payload["insured_months"] = 120
        return Answer(department, self.name, timezone.now(), payload)


def answers(household: Household) -> dict:
    return {
        "members": [
            {"name": household.head_name, "relation": "本人", "id_number": household.head_id_number}
        ],
        "monthly_income": "1200",
        "other_housing": "none",
        "changes": "",
    }


def ending_lease(days: int = 60, skip: int = 0) -> Contract:
    """An active lease that ends `days` from today (inside the renewal window)."""
    today = timezone.localdate()
    return lease(
        start=date(2024, 1, 1), end=today + timedelta(days=days), skip=skip, no_credit_record=True
    )


def as_tenant(client, household: Household) -> None:
    session = client.session
    session["applicant_id"] = household.applicant_id
    session.save()
