"""统一身份认证: the OpenID Connect client of the provincial identity provider.

Authorization-code flow with PKCE (S256), state and nonce, by Authlib's OAuth 2 session; the ID
token is checked against the provider's published keys (RS256 only) for issuer, audience,
expiry and nonce before any claim is believed. Issuer, client, secret, scopes and claim names
are settings (ANJU_OIDC_*); the provider's metadata and keys are cached for a few minutes.
"""

import base64
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from threading import Lock

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.utils.translation import gettext as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from exchange.idcard import validate_id_number

CACHE_SECONDS = 300
# Before sending a browser to the provider, its discovery document must be this fresh.
REACHABLE_SECONDS = 15
ALGORITHMS = ["RS256"]

_cache: dict[tuple[str, str], tuple[float, dict]] = {}
_cache_lock = Lock()


class ProviderUnavailable(Exception):
    """The provider cannot be reached or answered nonsense: the resident can retry or use SMS."""


class SignInRefused(Exception):
    """The answer does not prove who is signing in (state, code, token or claims wrong)."""


@dataclass(frozen=True)
class Vouched:
    """Who the provider vouched for: its account (issuer, subject) and the real name."""

    issuer: str
    subject: str
    name: str
    id_number: str
    phone: str


def enabled() -> bool:
    return bool(settings.ANJU_OIDC_ISSUER)


def _issuer() -> str:
    return settings.ANJU_OIDC_ISSUER.rstrip("/")


def _get_json(url: str) -> dict:
    try:
        response = requests.get(url, timeout=settings.ANJU_OIDC_TIMEOUT)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(str(exc)) from exc
    if not isinstance(body, dict):
        raise ProviderUnavailable(f"{url}: not a JSON object")
    return body


def _cached(kind: str, url: str, fresh: bool = False, max_age: float = CACHE_SECONDS) -> dict:
    key = (kind, url)
    with _cache_lock:
        hit = _cache.get(key)
    if hit and not fresh and hit[0] - CACHE_SECONDS + max_age > time.monotonic():
        return hit[1]
    body = _get_json(url)
    with _cache_lock:
        _cache[key] = (time.monotonic() + CACHE_SECONDS, body)
    return body


def forget_provider() -> None:
    """Drop cached metadata and keys (a provider changed, or a test started a new one)."""
    with _cache_lock:
        _cache.clear()


def metadata(max_age: float = CACHE_SECONDS) -> dict:
    """The provider's discovery document; its issuer must be the configured one (OIDC
    Discovery 4.3), so a document served elsewhere cannot redirect us."""
    issuer = _issuer()
    document = _cached("metadata", f"{issuer}/.well-known/openid-configuration", max_age=max_age)
    if document.get("issuer", "").rstrip("/") != issuer:
        raise ProviderUnavailable(f"discovery issuer {document.get('issuer')!r} is not {issuer!r}")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(name), str):
            raise ProviderUnavailable(f"discovery document has no {name}")
    return document


def _session(redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id=settings.ANJU_OIDC_CLIENT_ID,
        client_secret=settings.ANJU_OIDC_CLIENT_SECRET,
        scope=settings.ANJU_OIDC_SCOPES,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )


def start(redirect_uri: str) -> tuple[str, dict]:
    """The provider's authorization URL, and what the callback must find again (kept in the
    session): state, nonce and the PKCE verifier never leave this server except as hashes.
    The discovery document is asked again when older than REACHABLE_SECONDS: a provider that
    went down gives our clear message, not the browser's dead page at its address."""
    endpoint = metadata(max_age=REACHABLE_SECONDS)["authorization_endpoint"]
    pending = {
        "state": secrets.token_urlsafe(32),
        "nonce": secrets.token_urlsafe(32),
        "verifier": secrets.token_urlsafe(64),
        "issuer": _issuer(),
        "at": time.time(),
    }
    url, _state = _session(redirect_uri).create_authorization_url(
        endpoint, state=pending["state"], code_verifier=pending["verifier"], nonce=pending["nonce"]
    )
    return url, pending


def finish(params: dict, pending: dict, redirect_uri: str) -> Vouched:
    """Check the callback against the pending request, redeem the code with the verifier, and
    return who the valid ID token names. Raises SignInRefused or ProviderUnavailable."""
    if params.get("error") == "access_denied":  # the resident said no (RFC 6749 4.1.2.1)
        raise SignInRefused(_("您在统一身份认证平台取消了授权，未登录。"))
    if params.get("error"):  # the provider failed: not the resident's doing
        raise SignInRefused(
            _("统一身份认证平台未能完成登录（%(error)s），请稍后重试，或使用手机验证码登录。")
            % {"error": str(params["error"])[:60]}
        )
    if not hmac.compare_digest(str(params.get("state", "")).encode(), pending["state"].encode()):
        raise SignInRefused(_("登录请求已失效或不是从本站发起，请重新登录。"))
    if pending.get("issuer") != _issuer():
        raise SignInRefused(_("登录请求已失效，请重新登录。"))
    if not params.get("code"):
        raise SignInRefused(_("统一身份认证平台没有返回授权码，请重新登录。"))
    token_endpoint = metadata()["token_endpoint"]
    try:
        token = _session(redirect_uri).fetch_token(
            token_endpoint,
            code=params["code"],
            code_verifier=pending["verifier"],
            timeout=settings.ANJU_OIDC_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise ProviderUnavailable(str(exc)) from exc
    except (AuthlibBaseError, ValueError) as exc:
        raise SignInRefused(_("统一身份认证平台拒绝了本次登录，请重新登录。")) from exc
    if not isinstance(token.get("id_token"), str):
        raise SignInRefused(_("统一身份认证平台没有返回身份令牌，请重新登录。"))
    return vouched(validate_id_token(token["id_token"], pending["nonce"]))


def _keys(header_kid: str | None) -> KeySet:
    """The provider's keys; fetched again once when a token names a key we have not seen
    (the provider rotated its key)."""
    uri = metadata()["jwks_uri"]
    keys = KeySet.import_key_set(_cached("jwks", uri))
    if header_kid and header_kid not in {k.kid for k in keys}:
        keys = KeySet.import_key_set(_cached("jwks", uri, fresh=True))
    return keys


def _kid(id_token: str) -> str | None:
    """The key id the token's (not yet trusted) header names, to pick the key to check it."""
    head = id_token.split(".", 1)[0]
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return header.get("kid") if isinstance(header, dict) else None


def validate_id_token(id_token: str, nonce: str) -> dict:
    """The token's claims when its signature, issuer, audience, expiry and nonce hold; else
    SignInRefused. Only RS256: an unsigned ("none") or HMAC token is refused."""
    refused = SignInRefused(_("身份令牌校验未通过，未登录。请重新登录或使用短信验证码登录。"))
    try:
        token = jwt.decode(id_token, _keys(_kid(id_token)), algorithms=ALGORITHMS)
        jwt.JWTClaimsRegistry(
            leeway=60,
            iss={"essential": True, "value": _issuer()},
            sub={"essential": True},
            aud={"essential": True, "value": settings.ANJU_OIDC_CLIENT_ID},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise refused from exc
    claims = token.claims
    audience = claims["aud"]
    several = isinstance(audience, list) and len(audience) > 1
    if several and claims.get("azp") != settings.ANJU_OIDC_CLIENT_ID:
        raise refused
    return claims


def vouched(claims: dict) -> Vouched:
    """The real name from the claims named in the settings; a claim missing or malformed is
    the provider's fault, said plainly."""
    name = str(claims.get(settings.ANJU_OIDC_CLAIM_NAME) or "").strip()
    number = str(claims.get(settings.ANJU_OIDC_CLAIM_ID_NUMBER) or "").strip().upper()
    phone = str(claims.get(settings.ANJU_OIDC_CLAIM_PHONE) or "").strip()
    if not name or not number or validate_id_number(number):
        raise SignInRefused(
            _("统一身份认证平台未提供有效的实名信息（姓名、身份证号），请使用短信验证码登录。")
        )
    return Vouched(_issuer(), str(claims["sub"]), name, number, phone)
