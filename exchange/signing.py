"""Request signing between us and a city data-sharing platform: HMAC-SHA256 over the request.

string to sign = METHOD \\n PATH \\n TIMESTAMP \\n NONCE \\n SHA256(body); headers X-App-Id,
X-Timestamp, X-Nonce, X-Signature. Requests older than five minutes are refused.
"""

import hashlib
import hmac
import secrets
import time

MAX_SKEW_SECONDS = 300


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join([method.upper(), path, timestamp, nonce, digest]).encode()


def sign(secret: str, method: str, path: str, body: bytes = b"") -> dict[str, str]:
    timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
    signature = hmac.new(
        secret.encode(), string_to_sign(method, path, timestamp, nonce, body), hashlib.sha256
    ).hexdigest()
    return {"X-Timestamp": timestamp, "X-Nonce": nonce, "X-Signature": signature}


def verify(secret: str, method: str, path: str, headers: dict, body: bytes = b"") -> bool:
    timestamp = headers.get("X-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_SECONDS:
        return False
    expected = hmac.new(
        secret.encode(),
        string_to_sign(method, path, timestamp, headers.get("X-Nonce", ""), body),
        hashlib.sha256,
    ).hexdigest()
    return hmac.compare_digest(expected, headers.get("X-Signature", ""))
