"""An application submitted by a resident the provider vouched for says so in its file: an
archive event (identity: oidc) and a line on the staff case page; one signed in by SMS code
does not."""

import pytest
from django.urls import reverse

from archive.models import Event
from exchange.demo_idp import RESIDENTS
from housing.models import Application
from housing.views import SESSION_KEY
from tests.exchange import test_oidc as flow
from tests.housing.application_form import application_form
from tests.housing.test_sign_in import last_code

idp, provider = flow.idp, flow.provider  # the demo provider's process and settings

pytestmark = pytest.mark.django_db
VOUCHED = "身份已经统一身份认证核验"


def _form(name: str, id_number: str) -> dict:
    member = {"name": name, "relation": "本人", "id_number": id_number}
    return application_form("submit", name, id_number, flow._place(), [member])


def _submitted(client) -> Application:
    application = Application.objects.get(applicant_id=client.session[SESSION_KEY])
    assert application.submitted_at is not None, application.stage
    return application


def _case_page(client, cast, application: Application) -> str:
    staff = type(client)()
    staff.force_login(cast.users["city"])
    page = staff.get(reverse("review-detail", args=[application.pk]))
    assert page.status_code == 200
    return page.content.decode()


def test_a_submission_by_a_vouched_resident_records_the_provider(
    client, provider, platform_settings, cast
):
    person = RESIDENTS[4]
    flow.sign_in(client, 4, "/apply/")
    response = client.post("/apply/", _form(person.name, person.id_number))
    assert response.status_code == 302 and response["Location"] == "/my/", (
        response.content.decode()[:3000]
    )
    application = _submitted(client)
    assert (application.name, application.id_number) == (person.name, person.id_number)

    event = Event.objects.get(action="application.identity_vouched", household_id=application.pk)
    assert event.after == {"identity": "oidc", "verified_by": f"oidc:{provider}"}
    assert application.number in event.summary
    assert VOUCHED in _case_page(client, cast, application)


def test_a_submission_after_an_sms_code_records_no_provider(client, platform_settings, cast):
    person = RESIDENTS[4]
    phone = "13900004521"
    client.post("/apply/login/", {"phone": phone})
    client.post("/apply/verify/", {"phone": phone, "code": last_code(phone)})
    response = client.post("/apply/", _form(person.name, person.id_number))
    assert response.status_code == 302, response.content.decode()[:3000]
    application = _submitted(client)

    assert not Event.objects.filter(action="application.identity_vouched").exists()
    assert VOUCHED not in _case_page(client, cast, application)
