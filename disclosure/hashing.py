"""The content hash of a publication: SHA-256 of one canonical JSON serialization.

Kept free of Django so anyone can recompute it from the downloaded document.
"""

import hashlib
import json
from decimal import Decimal


def canonical_json(document: dict) -> bytes:
    """The one serialization that is hashed: sorted keys, no spaces, UTF-8."""

    def default(value):
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(f"cannot serialize {type(value).__name__}")

    return json.dumps(
        document, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=default
    ).encode("utf-8")


def content_hash(document: dict) -> str:
    return hashlib.sha256(canonical_json(document)).hexdigest()
