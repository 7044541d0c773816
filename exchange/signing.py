"""Request signing between us and a city data-sharing platform: HMAC-SHA256 over the request.

string to sign = METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n SHA256(body); headers X-App-Id,
X-Timestamp, X-Nonce, X-Signature. Requests older than five minutes are refused.
"""

import hashlib
import hmac
import secrets
import threading
import time

MAX_SKEW_SECONDS = 300


def string_to_sign(
    app_id: str, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([app_id, method.upper(), path, timestamp, nonce, digest]).encode()


def sign(app_id: str, secret: str, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
    signature = hmac.new(
        secret.encode(),
        string_to_sign(app_id, method, path, timestamp, nonce, body),
        hashlib.sha256,
    ).hexdigest()
    return {
        "X-App-Id": app_id,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
        "X-Signature": signature,
    }


class NonceStore:
    """Nonces seen within the allowed clock skew: a captured request cannot be replayed."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()

    def first_use(self, nonce: str) -> bool:
        now = time.time()
        with self.lock:
            self.seen = {n: t for n, t in self.seen.items() if now - t < 2 * MAX_SKEW_SECONDS}
            if not nonce or nonce in self.seen:
                return False
            self.seen[nonce] = now
            return True


def verify(
    app_id: str,
    secret: str,
    method: str,
    path: str,
    headers: dict,
    body: bytes = b"",
    nonces: NonceStore | None = None,
) -> bool:
    timestamp = headers.get("X-Timestamp", "")
    if headers.get("X-App-Id") != app_id:
        return False
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    expected = hmac.new(
        secret.encode(),
        string_to_sign(app_id, method, path, timestamp, headers.get("X-Nonce", ""), body),
        hashlib.sha256,
    ).hexdigest()
    given = headers.get("X-Signature", "").encode("utf-8", "replace")
    if not hmac.compare_digest(expected.encode(), given):
        return False
    return nonces is None or nonces.first_use(headers.get("X-Nonce", ""))
