"""统一身份认证: the whole OpenID Connect flow over real HTTP against the demo provider, run as
its own process (exchange.demo_idp) the way `make run` starts it. The browser's part is played
by `requests` at the provider and by Django's test client at Anju."""

import base64
import html
import json
import re
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey

from archive.models import Event
from exchange.demo_idp import RESIDENTS
from exchange.idcard import make_id_number
from exchange.models import OidcIdentity
from exchange.synthetic import record
from housing import oidc
from housing.models import Applicant, Application, Household, SmsMessage
from housing.views import SESSION_KEY
from tests.housing.application_form import application_form, demo_place

ROOT = Path(__file__).resolve().parents[2]
CALLBACK = "http://testserver/login/oidc/callback/"

pytestmark = pytest.mark.django_db


def start_provider(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "exchange.demo_idp", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()  # "demo identity provider on http://127.0.0.1:PORT"
    assert "demo identity provider on" in line, line
    return proc, line.strip().rsplit(" ", 1)[-1]


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def idp():
    proc, url = start_provider()
    yield url
    stop(proc)


@pytest.fixture
def provider(settings, idp):
    settings.ANJU_OIDC_ISSUER = idp
    settings.ANJU_OIDC_CLIENT_ID = "anju-demo"
    settings.ANJU_OIDC_CLIENT_SECRET = "anju-demo-secret"
    oidc.forget_provider()
    yield idp
    oidc.forget_provider()


def to_provider(client, next_: str | None = None) -> str:
    """Anju's sign-in link: the provider's authorization URL it redirects to."""
    response = client.get("/login/oidc/", {"next": next_} if next_ else {})
    assert response.status_code == 302, response
    return response["Location"]


def consent(authorize_url: str, resident: int = 0, decision: str = "allow") -> str:
    """At the provider's page: pick the resident, agree; the redirect back to Anju."""
    page = requests.get(authorize_url, timeout=5)
    assert page.status_code == 200 and "选择登录的居民" in page.text
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text
        )
    }
    fields |= {"resident": str(resident), "decision": decision}
    base = authorize_url.split("/authorize", 1)[0]
    answer = requests.post(f"{base}/authorize", data=fields, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def back_at_anju(client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client, resident: int = 0, next_: str | None = None):
    return back_at_anju(client, consent(to_provider(client, next_), resident))


def shown(client, response) -> str:
    """The page a redirect lands on (where the message is)."""
    assert response.status_code == 302
    return client.get(response["Location"]).content.decode()


def test_a_resident_signs_in_with_state_nonce_and_pkce_and_lands_on_the_deep_link(client, provider):
    authorize = to_provider(client, "/my/messages/")
    query = parse_qs(urlsplit(authorize).query)
    assert authorize.startswith(f"{provider}/authorize?")
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == [CALLBACK] and query["response_type"] == ["code"]
    assert query["state"][0] and query["nonce"][0] and "code_verifier" not in query
    pending = client.session["oidc_pending"][-1]
    assert pending["state"] == query["state"][0] and pending["nonce"] == query["nonce"][0]

    callback = consent(authorize, resident=0)
    assert callback.startswith(CALLBACK) and "code=" in callback
    response = back_at_anju(client, callback)
    assert response.status_code == 302 and response["Location"] == "/my/messages/"

    person = RESIDENTS[0]
    applicant = Applicant.objects.get(pk=client.session[SESSION_KEY])
    identity = OidcIdentity.objects.get(applicant=applicant)
    assert (identity.name, identity.id_number) == (person.name, person.id_number)
    assert identity.issuer == provider and identity.verified_by == f"oidc:{provider}"
    assert applicant.phone == person.phone
    assert Event.objects.filter(action="applicant.identity_bound").count() == 1
    assert client.get("/my/messages/").status_code == 200

    # The same callback again: its state was used up, nobody is signed in by a replay.
    replay_client = type(client)()
    replay = back_at_anju(replay_client, callback)
    assert SESSION_KEY not in replay_client.session
    assert "登录请求已失效或不是从本站发起" in shown(replay_client, replay)

    # Signing in again finds the same account and identity; the binding is recorded once.
    again = type(client)()
    assert sign_in(again, 0).status_code == 302
    assert again.session[SESSION_KEY] == applicant.pk
    assert OidcIdentity.objects.filter(id_index=identity.id_index).count() == 1
    assert Event.objects.filter(action="applicant.identity_bound").count() == 1


def test_only_local_deep_links_are_kept(client, provider):
    assert sign_in(client, 1, "https://evil.example/my/")["Location"] == "/my/"
    other = type(client)()
    assert sign_in(other, 1, "/apply/?step=2")["Location"] == "/apply/?step=2"


def test_the_provider_checks_pkce_and_spends_a_code_once(client, provider):
    authorize = to_provider(client)
    callback = consent(authorize, resident=1)
    code = parse_qs(urlsplit(callback).query)["code"][0]
    wrong = requests.post(
        f"{provider}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": "x" * 64,
        },
        auth=("anju-demo", "anju-demo-secret"),
        timeout=5,
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    # The code was tried once with the wrong verifier: Anju's own exchange is refused too.
    response = back_at_anju(client, callback)
    assert SESSION_KEY not in client.session
    assert "统一身份认证平台拒绝了本次登录" in shown(client, response)
    # Without a challenge the provider does not even ask the resident.
    bare = authorize.replace("code_challenge_method=S256", "code_challenge_method=plain")
    assert requests.get(bare, timeout=5).status_code == 400


def test_a_callback_with_a_wrong_state_or_from_another_browser_is_refused(client, provider):
    authorize = to_provider(client)
    callback = consent(authorize, resident=1)
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    assert SESSION_KEY not in client.session
    assert "登录请求已失效或不是从本站发起" in shown(client, back_at_anju(client, forged))
    assert SESSION_KEY not in client.session
    # A victim's browser given an attacker's callback (login CSRF): no session started it.
    victim = type(client)()
    assert "登录请求已失效或不是从本站发起" in shown(victim, back_at_anju(victim, callback))
    assert SESSION_KEY not in victim.session
    assert not OidcIdentity.objects.filter(id_number=RESIDENTS[1].id_number).exists()


def _token_by_hand(client, provider_url: str) -> tuple[str, str]:
    """A genuine ID token, redeemed by the test with the verifier Anju kept."""
    authorize = to_provider(client)
    pending = client.session["oidc_pending"][-1]
    code = parse_qs(urlsplit(consent(authorize, resident=2)).query)["code"][0]
    token = requests.post(
        f"{provider_url}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": CALLBACK,
            "code_verifier": pending["verifier"],
        },
        auth=("anju-demo", "anju-demo-secret"),
        timeout=5,
    )
    assert token.status_code == 200, token.text
    return token.json()["id_token"], pending["nonce"]


def test_only_a_genuine_id_token_for_this_request_is_believed(client, provider):
    id_token, nonce = _token_by_hand(client, provider)
    claims = oidc.validate_id_token(id_token, nonce)
    assert claims["id_number"] == RESIDENTS[2].id_number and claims["aud"] == "anju-demo"

    header, body, signature = id_token.split(".")
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
    impostor = RSAKey.generate_key(2048, parameters={"kid": kid})  # the provider's key id
    other = jwt.encode({"alg": "RS256", "kid": kid}, {**claims, "name": "冒名者"}, impostor)
    forged_body = other.split(".")[1]
    attempts = {
        "claims changed after signing": f"{header}.{forged_body}.{signature}",
        "signed by another key": other,
        "unsigned": f"eyJhbGciOiJub25lIn0.{body}.",
    }
    for what, token in attempts.items():
        with pytest.raises(oidc.SignInRefused):
            oidc.validate_id_token(token, nonce)
            pytest.fail(what)
    with pytest.raises(oidc.SignInRefused):
        oidc.validate_id_token(id_token, "another-nonce")


def test_a_tampered_id_token_in_the_whole_flow_signs_nobody_in(client, settings):
    proc, url = start_provider("--tamper-id-token")
    try:
        settings.ANJU_OIDC_ISSUER = url
        oidc.forget_provider()
        response = sign_in(client, 0)
        assert SESSION_KEY not in client.session
        assert "身份令牌校验未通过" in shown(client, response)
        assert not OidcIdentity.objects.exists()
    finally:
        stop(proc)
        oidc.forget_provider()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_provider_that_is_down_says_so_and_the_sms_code_still_signs_in(client, settings):
    settings.ANJU_OIDC_ISSUER = f"http://127.0.0.1:{_free_port()}"
    oidc.forget_provider()
    response = client.get("/login/oidc/", {"next": "/apply/"})
    assert response.status_code == 302 and response["Location"] == "/apply/login/?next=%2Fapply%2F"
    page = client.get(response["Location"]).content.decode()
    assert "统一身份认证平台暂时无法访问" in page and "手机验证码登录" in page
    assert page.index("政务服务网统一身份认证登录") < page.index('name="phone"')

    phone = "13900007788"
    client.post("/apply/login/", {"phone": phone, "next": "/apply/"})
    code = re.search(r"\d{6}", SmsMessage.objects.filter(phone=phone).first().text).group()
    signed = client.post("/apply/verify/", {"phone": phone, "code": code, "next": "/apply/"})
    assert signed.status_code == 302 and signed["Location"] == "/apply/"
    assert Applicant.objects.get(pk=client.session[SESSION_KEY]).phone == phone


def test_a_provider_that_goes_down_mid_way_gives_the_same_clear_message(client, settings):
    proc, url = start_provider()
    settings.ANJU_OIDC_ISSUER = url
    oidc.forget_provider()
    try:
        callback = consent(to_provider(client), resident=0)
    finally:
        stop(proc)
    time.sleep(0.2)
    response = back_at_anju(client, callback)
    assert SESSION_KEY not in client.session
    assert "统一身份认证平台暂时无法访问" in shown(client, response)
    oidc.forget_provider()


def test_a_provider_that_went_down_after_a_sign_in_is_noticed_before_redirecting(client, settings):
    """The discovery document is cached for minutes, but a browser is sent to the provider
    only after it answered in the last REACHABLE_SECONDS: not to a dead page."""
    proc, url = start_provider()
    settings.ANJU_OIDC_ISSUER = url
    oidc.forget_provider()
    try:
        assert client.get("/login/oidc/").status_code == 302  # reached: metadata cached
    finally:
        stop(proc)
    # The cached document ages past REACHABLE_SECONDS (still within its cache time).
    aged = time.monotonic() + oidc.CACHE_SECONDS - oidc.REACHABLE_SECONDS - 1
    oidc._cache.update({key: (aged, body) for key, (_expiry, body) in oidc._cache.items()})
    response = client.get("/login/oidc/", {"next": "/apply/"})
    assert response["Location"] == "/apply/login/?next=%2Fapply%2F"
    assert "统一身份认证平台暂时无法访问" in client.get(response["Location"]).content.decode()
    oidc.forget_provider()


def test_sign_in_by_provider_is_offered_only_when_configured(client, settings):
    settings.ANJU_OIDC_ISSUER = ""
    page = client.get("/apply/login/").content.decode()
    assert "统一身份认证" not in page and 'name="phone"' in page
    assert client.get("/login/oidc/").status_code == 404
    settings.ANJU_OIDC_ISSUER = "http://127.0.0.1:9"
    page = client.get("/apply/login/", {"next": "/status/"}).content.decode()
    assert 'href="/login/oidc/?next=/status/"' in page


def test_the_account_binds_by_id_number_across_providers_and_to_an_approved_household(
    client, provider, settings
):
    sign_in(client, 0)
    first = client.session[SESSION_KEY]
    # Another provider (another issuer and subject) vouching for the same person: one account.
    proc, url = start_provider()
    try:
        settings.ANJU_OIDC_ISSUER = url
        oidc.forget_provider()
        other = type(client)()
        sign_in(other, 0)
        assert other.session[SESSION_KEY] == first
        assert OidcIdentity.objects.filter(applicant_id=first).count() == 2
    finally:
        stop(proc)
        settings.ANJU_OIDC_ISSUER = provider
        oidc.forget_provider()

    # A household approved under this ID number: its account, not the provider's phone.
    household = Household.objects.filter(applicant__isnull=False).first()
    household.head_id_number = RESIDENTS[2].id_number
    household.save()
    third = type(client)()
    sign_in(third, 2)
    assert third.session[SESSION_KEY] == household.applicant_id
    assert household.applicant.phone != RESIDENTS[2].phone


def test_a_phone_whose_account_applied_for_someone_else_is_not_handed_over(client, provider):
    application = Application.objects.filter(applicant__isnull=False).first()
    applicant = application.applicant
    applicant.phone = RESIDENTS[3].phone
    applicant.save()
    response = sign_in(client, 3)
    assert SESSION_KEY not in client.session
    assert "已用于他人的申请账户" in shown(client, response)


def _place():
    return demo_place()


def test_the_vouched_name_and_id_number_cannot_be_changed(client, provider, platform_settings):
    person = RESIDENTS[4]
    sign_in(client, 4, "/apply/")
    page = client.get("/apply/").content.decode()
    for value in (person.name, person.id_number):
        field = re.search(rf'<input[^>]*value="{value}"[^>]*>', page)
        assert field and "readonly" in field.group(), value

    stranger = make_id_number("341621", date(1990, 3, 3), 77)
    # The departments are asked about the verified person, whatever the page posted.
    prefill = client.post(
        "/apply/", {"action": "prefill", "name": "李四", "id_number": stranger}
    ).content.decode()
    members = record("police", person.id_number)["members"]
    assert f"已从公安户籍读取家庭成员 {len(members)} 人" in prefill

    member = {"name": person.name, "relation": "本人", "id_number": person.id_number}
    form = application_form("save", "李四", stranger, _place(), [member])
    del form["consent"]
    response = client.post("/apply/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    draft = Application.objects.get(applicant_id=client.session[SESSION_KEY])
    assert (draft.name, draft.id_number) == (person.name, person.id_number)


def test_a_refusal_reads_as_cancelled_and_a_provider_error_does_not(client, provider):
    refused = consent(to_provider(client), resident=0, decision="deny")
    assert "error=access_denied" in refused
    assert "您在统一身份认证平台取消了授权" in shown(client, back_at_anju(client, refused))
    state = parse_qs(urlsplit(to_provider(client)).query)["state"][0]
    failed = client.get("/login/oidc/callback/", {"state": state, "error": "server_error"})
    page = shown(client, failed)
    assert "统一身份认证平台未能完成登录（server_error）" in page and "取消了授权" not in page
    assert SESSION_KEY not in client.session
