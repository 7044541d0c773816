"""The demo provincial identity provider (统一身份认证): a real OpenID Connect server in a
separate small process on loopback, like the demo data platform.

Authorization-code flow only, PKCE (S256) required, ID tokens signed RS256 with Authlib's
companion JOSE library (joserfc). Endpoints: /.well-known/openid-configuration, /authorize (a
page to pick a synthetic resident and consent), /token, /jwks, /userinfo, /health. Residents
are synthetic; their names are the demo data platform's (exchange.synthetic), so a resident
signed in here passes the 公安 name check there.
`make run` and the tests start it:  python -m exchange.demo_idp --port 8766
(`--tamper-id-token` alters each ID token after signing: a token changed on the way.)
"""

import argparse
import base64
import hashlib
import hmac
import html
import json
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from string import Template
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit
from wsgiref.simple_server import make_server

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import RSAKey

from exchange.demo_platform import QuietHandler, ThreadingServer
from exchange.idcard import make_id_number
from exchange.synthetic import person_name

PAGES = Path(__file__).resolve().parent.parent / "templates" / "demo_idp"
CODE_SECONDS = 60
TOKEN_SECONDS = 600
MAX_BODY = 16 * 1024
CALLBACK_SUFFIX = "/login/oidc/callback/"
# The request's parameters the consent page carries back to the decision.
FORWARDED = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


@dataclass(frozen=True)
class Resident:
    name: str
    id_number: str
    phone: str

    def claims(self) -> dict:
        return {"name": self.name, "id_number": self.id_number, "phone_number": self.phone}


def _resident(region: str, born: date, sequence: int) -> Resident:
    number = make_id_number(region, born, sequence)
    digits = int(hashlib.sha256(number.encode()).hexdigest()[:12], 16)
    return Resident(person_name(number), number, f"139{digits % 10**8:08d}")


# Synthetic residents of the four counties of the demo city; sequence 901 owns a flat (a
# household the rules refuse, for demonstrations).
RESIDENTS = (
    _resident("341602", date(1986, 5, 17), 311),
    _resident("341602", date(1992, 11, 3), 422),
    _resident("341621", date(1979, 2, 28), 135),
    _resident("341622", date(1988, 8, 8), 246),
    _resident("341623", date(1995, 1, 20), 357),
    _resident("341602", date(1983, 6, 1), 901),
)


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    resident: Resident
    nonce: str
    challenge: str
    scope: str
    expires: float
    used: bool = False


class Provider:
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        key: RSAKey,
        redirect_uris: list[str],
        tamper: bool = False,
    ):
        self.client_id, self.client_secret, self.key = client_id, client_secret, key
        self.redirect_uris, self.tamper = redirect_uris, tamper
        self.issuer = ""
        self.grants: dict[str, Grant] = {}
        self.tokens: dict[str, tuple[Resident, float]] = {}
        self.lock = threading.Lock()

    # --- plumbing ----------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO", ""), environ["REQUEST_METHOD"]
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        form: dict = {}
        if method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                return self._json(start_response, 413, {"error": "invalid_request"})
            form = dict(parse_qsl(environ["wsgi.input"].read(length).decode("utf-8", "replace")))
        routes = {
            ("GET", "/health"): lambda: self._json(start_response, 200, {"ok": True}),
            ("GET", "/idp.css"): lambda: self._css(start_response),
            ("GET", "/.well-known/openid-configuration"): lambda: self._json(
                start_response, 200, self.metadata()
            ),
            ("GET", "/jwks"): lambda: self._json(
                start_response, 200, {"keys": [self.key.as_dict(private=False)]}
            ),
            ("GET", "/authorize"): lambda: self._authorize_page(start_response, query),
            ("POST", "/authorize"): lambda: self._authorize_decision(start_response, form),
            ("POST", "/token"): lambda: self._token(start_response, environ, form),
            ("GET", "/userinfo"): lambda: self._userinfo(start_response, environ),
        }
        handler = routes.get((method, path))
        if handler is None:
            return self._json(start_response, 404, {"error": "not_found"})
        return handler()

    def metadata(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": ["openid", "profile", "phone"],
            "claims_supported": ["sub", "name", "id_number", "phone_number", "nonce"],
        }

    @staticmethod
    def _json(start_response, status: int, body: dict, headers: list | None = None):
        data = json.dumps(body, ensure_ascii=False).encode()
        reasons = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}
        start_response(
            f"{status} {reasons.get(status, 'Error')}",
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(data))),
                ("Cache-Control", "no-store"),
                *(headers or []),
            ],
        )
        return [data]

    @staticmethod
    def _css(start_response):
        text = (PAGES / "idp.css").read_bytes()
        start_response(
            "200 OK",
            [("Content-Type", "text/css; charset=utf-8"), ("Content-Length", str(len(text)))],
        )
        return [text]

    @staticmethod
    def _page(start_response, status: int, name: str, **values):
        text = Template((PAGES / name).read_text(encoding="utf-8")).substitute(values).encode()
        start_response(
            f"{status} {'OK' if status == 200 else 'Bad Request'}",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(text)))],
        )
        return [text]

    # --- authorization endpoint ----------------------------------------------------------------

    def _redirect_allowed(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        parts = urlsplit(uri)  # the demo: any Anju callback (tests run on ports chosen at random)
        return parts.scheme in ("http", "https") and parts.path.endswith(CALLBACK_SUFFIX)

    def _request_problem(self, params: dict) -> str | None:
        """What makes an authorization request unusable: shown on the page, never redirected
        (a wrong client or redirect address must not send the browser anywhere)."""
        if params.get("client_id") != self.client_id:
            return "未登记的应用（client_id 不正确）。"
        if not self._redirect_allowed(params.get("redirect_uri", "")):
            return "回调地址未登记（redirect_uri 不正确）。"
        if params.get("response_type") != "code":
            return "只支持授权码模式（response_type=code）。"
        if "openid" not in params.get("scope", "").split():
            return "请求须包含 openid 范围。"
        if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
            return "须使用 PKCE（code_challenge_method=S256）。"
        return None

    def _authorize_page(self, start_response, params: dict):
        if problem := self._request_problem(params):
            return self._page(start_response, 400, "error.html", message=html.escape(problem))
        hidden = "\n".join(
            f'<input type="hidden" name="{n}" value="{html.escape(params[n])}">'
            for n in FORWARDED
            if n in params
        )
        people = "\n".join(
            f'<label class="person"><input type="radio" name="resident" value="{i}"'
            f'{" checked" if i == 0 else ""}><span class="who">'
            f"<strong>{html.escape(r.name)}</strong>"
            f' <span class="muted">{r.id_number[:6]}********{r.id_number[-4:]}'
            f" · {r.phone[:3]}****{r.phone[-4:]}</span></span></label>"
            for i, r in enumerate(RESIDENTS)
        )
        return self._page(
            start_response,
            200,
            "authorize.html",
            action="/authorize",
            hidden=hidden,
            people=people,
            client=html.escape(self.client_id),
        )

    def _authorize_decision(self, start_response, form: dict):
        if problem := self._request_problem(form):
            return self._page(start_response, 400, "error.html", message=html.escape(problem))
        back = {"state": form["state"]} if form.get("state") else {}
        if form.get("decision") != "allow":
            return self._redirect(
                start_response, form["redirect_uri"], {"error": "access_denied"} | back
            )
        try:
            resident = RESIDENTS[int(form.get("resident", ""))]
        except (ValueError, IndexError):
            return self._page(start_response, 400, "error.html", message="请选择一位居民。")
        code = secrets.token_urlsafe(32)
        with self.lock:
            self.grants[code] = Grant(
                client_id=form["client_id"],
                redirect_uri=form["redirect_uri"],
                resident=resident,
                nonce=form.get("nonce", ""),
                challenge=form["code_challenge"],
                scope=form["scope"],
                expires=time.time() + CODE_SECONDS,
            )
        return self._redirect(start_response, form["redirect_uri"], {"code": code} | back)

    @staticmethod
    def _redirect(start_response, uri: str, params: dict):
        joiner = "&" if urlsplit(uri).query else "?"
        start_response("302 Found", [("Location", uri + joiner + urlencode(params))])
        return [b""]

    # --- token and userinfo endpoints ------------------------------------------------------------

    def _client(self, environ, form: dict) -> str | None:
        """client_secret_basic or client_secret_post; None when the client does not prove
        itself."""
        auth = environ.get("HTTP_AUTHORIZATION", "")
        if auth.startswith("Basic "):
            try:
                raw = base64.b64decode(auth[6:]).decode()
            except ValueError:
                return None
            client_id, _, secret = (unquote_plus(p) for p in raw.partition(":"))
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        ok = hmac.compare_digest(client_id, self.client_id) and hmac.compare_digest(
            secret, self.client_secret
        )
        return client_id if ok else None

    def _token(self, start_response, environ, form: dict):
        client_id = self._client(environ, form)
        if client_id is None:
            return self._json(
                start_response,
                401,
                {"error": "invalid_client"},
                [("WWW-Authenticate", 'Basic realm="demo-idp"')],
            )
        if form.get("grant_type") != "authorization_code":
            return self._json(start_response, 400, {"error": "unsupported_grant_type"})
        with self.lock:
            grant = self.grants.get(form.get("code", ""))
            fresh = grant is not None and not grant.used and grant.expires > time.time()
            if grant is not None:
                grant.used = True  # one try: a code seen twice is spent either way
        if not fresh or grant.client_id != client_id:
            return self._json(start_response, 400, {"error": "invalid_grant"})
        if form.get("redirect_uri") != grant.redirect_uri:
            return self._json(
                start_response, 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
            )
        verifier = form.get("code_verifier", "")
        if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(
            create_s256_code_challenge(verifier), grant.challenge
        ):
            return self._json(
                start_response, 400, {"error": "invalid_grant", "error_description": "PKCE"}
            )
        access = secrets.token_urlsafe(32)
        with self.lock:
            self.tokens[access] = (grant.resident, time.time() + TOKEN_SECONDS)
        return self._json(
            start_response,
            200,
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": TOKEN_SECONDS,
                "scope": grant.scope,
                "id_token": self.id_token(grant),
            },
        )

    def subject(self, resident: Resident) -> str:
        """Stable per resident and provider, not the ID number itself."""
        return hashlib.sha256(f"{self.issuer}:{resident.id_number}".encode()).hexdigest()[:32]

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.subject(grant.resident),
            "aud": grant.client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            **({"nonce": grant.nonce} if grant.nonce else {}),
            **grant.resident.claims(),
        }
        token = jwt.encode({"alg": "RS256", "kid": self.key.kid}, claims, self.key)
        if self.tamper:
            header, _, signature = token.split(".")
            claims["name"] = "冒名者"
            body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            token = f"{header}.{body}.{signature}"
        return token

    def _userinfo(self, start_response, environ):
        auth = environ.get("HTTP_AUTHORIZATION", "")
        with self.lock:
            found = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if found is None or found[1] < time.time():
            return self._json(
                start_response,
                401,
                {"error": "invalid_token"},
                [("WWW-Authenticate", 'Bearer error="invalid_token"')],
            )
        resident = found[0]
        return self._json(start_response, 200, {"sub": self.subject(resident), **resident.claims()})


def signing_key(path: Path | None) -> RSAKey:
    """A new RSA key each start, or the one kept in `path` (created there the first time), so
    tokens and cached key sets survive a restart in development."""
    if path is not None and path.exists():
        return RSAKey.import_key(json.loads(path.read_text()))
    key = RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig"})
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(key.as_dict(private=True)))
        path.chmod(0o600)
    return key


def main() -> None:
    parser = argparse.ArgumentParser(description="演示统一身份认证平台（OpenID Connect，合成居民）")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--issuer", default="", help="default: http://HOST:PORT")
    parser.add_argument("--client-id", default="anju-demo")
    parser.add_argument("--client-secret", default="anju-demo-secret")
    parser.add_argument(
        "--redirect-uri",
        action="append",
        default=[],
        help=f"registered callback (repeatable); default: any ending in {CALLBACK_SUFFIX}",
    )
    parser.add_argument("--key-file", type=Path, default=None, help="keep the signing key here")
    parser.add_argument("--tamper-id-token", action="store_true", help="alter tokens after signing")
    args = parser.parse_args()
    provider = Provider(
        args.client_id,
        args.client_secret,
        signing_key(args.key_file),
        args.redirect_uri,
        tamper=args.tamper_id_token,
    )
    with make_server(args.host, args.port, provider, ThreadingServer, QuietHandler) as server:
        provider.issuer = args.issuer or f"http://{args.host}:{server.server_port}"
        print(f"demo identity provider on {provider.issuer}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
