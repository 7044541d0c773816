"""Staff sign-in through the same identity provider: only the staff account an administrator
linked to the verified identity opens, and the axes lockout still holds at this door."""

import pytest

from exchange.demo_idp import RESIDENTS
from exchange.models import OidcIdentity
from tests.exchange import test_oidc as flow
from tests.exchange.test_oidc import back_at_anju, consent, shown

idp, provider = flow.idp, flow.provider  # the demo provider's process and settings

pytestmark = pytest.mark.django_db


def staff_sign_in(client, resident: int = 0, next_: str | None = None):
    response = client.get("/login/oidc/staff/", {"next": next_} if next_ else {})
    assert response.status_code == 302, response
    return back_at_anju(client, consent(response["Location"], resident))


def opens_back_office(client) -> bool:
    return client.get("/staff/").status_code == 200


def test_only_an_identity_an_administrator_linked_opens_the_back_office(client, provider, cast):
    refused = staff_sign_in(client, 5, "/staff/review/")
    assert "尚未关联工作人员账户" in shown(client, refused)
    assert not opens_back_office(client)
    identity = OidcIdentity.objects.get(id_number=RESIDENTS[5].id_number)
    assert identity.user is None and identity.applicant is None  # recorded, for linking

    identity.user = cast.users["city"]  # what the administrator does in the admin site
    identity.save()
    response = staff_sign_in(client, 5, "/staff/review/")
    assert response.status_code == 302 and response["Location"] == "/staff/review/"
    assert opens_back_office(client)
    assert client.session["_auth_user_id"] == str(cast.users["city"].pk)

    # Signed in as a resident by the same provider, the same person is no staff member.
    resident = type(client)()
    back_at_anju(resident, consent(resident.get("/login/oidc/")["Location"], 5))
    assert not opens_back_office(resident)

    # A deep link outside the back office is not followed.
    other = type(client)()
    assert staff_sign_in(other, 5, "https://evil.example/")["Location"] == "/staff/"


def test_the_axes_lockout_holds_at_the_provider_door(client, provider, cast):
    user = cast.users["district"]
    OidcIdentity.objects.filter(id_number=RESIDENTS[5].id_number).delete()
    staff_sign_in(client, 5)  # recorded unlinked
    OidcIdentity.objects.filter(id_number=RESIDENTS[5].id_number).update(user=user)
    for _ in range(6):
        client.post("/staff/login/", {"username": user.username, "password": "wrong"})
    refused = staff_sign_in(client, 5)
    assert "账户已暂时锁定" in shown(client, refused)
    assert not opens_back_office(client)


def test_a_tampered_staff_callback_returns_to_the_staff_login_with_the_deep_link(client, provider):
    response = client.get("/login/oidc/staff/", {"next": "/staff/review/"})
    callback = consent(response["Location"], 0).replace("state=", "state=tampered")
    back = back_at_anju(client, callback)
    assert back["Location"] == "/staff/login/?next=%2Fstaff%2Freview%2F"
    assert "登录请求已失效或不是从本站发起" in shown(client, back)


def test_a_second_pass_through_the_provider_after_signing_in_is_no_error(client, provider):
    """Back to the provider's page after signing in, and "同意并登录" again."""
    authorize = flow.to_provider(client, "/apply/")
    callback = consent(authorize, 1)
    assert back_at_anju(client, callback)["Location"] == "/apply/"
    again = back_at_anju(client, callback)  # the state was used once already
    assert again["Location"] == "/my/"
    assert "登录请求已失效" not in client.get("/my/").content.decode()
