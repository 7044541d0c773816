"""Personal numbers at rest: ID and phone numbers are stored as Fernet tokens (AES-128-CBC with
HMAC-SHA256, from the `cryptography` package) and found through a keyed blind index.

Keys come from settings (ANJU_DATA_KEYS, newest first, so old tokens stay readable while
`manage.py rotate_data_keys` re-encrypts them; ANJU_BLIND_INDEX_KEY for the index). A copy of
the database without the keys shows neither the numbers nor, for lack of the HMAC key, a way
to test guesses against the index.
"""

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


class UnreadableData(Exception):
    """A stored token none of the configured keys opens (a key was removed too early)."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "Set ANJU_DATA_KEYS (or ANJU_DATA_KEYS_FILE): personal data is stored encrypted. "
            "Generate a key with `manage.py rotate_data_keys --new-key`."
        )
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"ANJU_DATA_KEYS holds a malformed key: {exc}") from exc


def _keys() -> MultiFernet:
    return _fernet(tuple(settings.ANJU_DATA_KEYS))


def _index_key() -> bytes:
    key = settings.ANJU_BLIND_INDEX_KEY
    if not key or len(key) < 32:
        raise ImproperlyConfigured(
            "Set ANJU_BLIND_INDEX_KEY (or ANJU_BLIND_INDEX_KEY_FILE) to at least 32 characters."
        )
    return key.encode()


def new_key() -> str:
    return Fernet.generate_key().decode()


def encrypt(text: str) -> str:
    return _keys().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _keys().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise UnreadableData(
            "A stored personal number cannot be decrypted with ANJU_DATA_KEYS: "
            "keep every old key in the list until `rotate_data_keys` has finished."
        ) from exc


def rotate(token: str) -> str:
    """The same text under the newest key (a token already under it is re-encrypted too)."""
    return _keys().rotate(token.encode()).decode()


def normalise(value: str) -> str:
    """One spelling per number: an ID's final x and surrounding blanks do not make another."""
    return value.strip().upper()


def blind_index(value: str) -> str:
    """HMAC-SHA256 of the normalised value: equal numbers give equal indexes, nothing more."""
    if value is None or value == "":
        return ""
    return hmac.new(_index_key(), normalise(value).encode(), hashlib.sha256).hexdigest()


@checks.register()
def data_keys_configured(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Refuse to start without usable keys, rather than fail on the first ID number."""
    try:
        _keys()
        _index_key()
    except ImproperlyConfigured as exc:
        return [
            checks.Error(
                f"个人信息加密密钥未配置或有误：{exc}",
                hint="开发环境运行 make（写入 .local/data-keys 与 .local/blind-index-key）；"
                "生产环境设置 ANJU_DATA_KEYS 与 ANJU_BLIND_INDEX_KEY（或对应的 _FILE）。",
                id="anju.E002",
            )
        ]
    return []


def encrypt_existing(connection, table: str, column: str, index: str | None = None) -> None:
    """For migrations: turn a column of plain text (or JSON text) into tokens and fill its
    blind index, in raw SQL, since the model's field would try to decrypt the plain values."""
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ctid::text, {qn(column)} FROM {qn(table)} "
            f"WHERE {qn(column)} IS NOT NULL AND {qn(column)} <> ''"
        )
        rows = cursor.fetchall()
        for row, value in rows:  # ctid: every table has one, whatever its key is called
            sets, params = [f"{qn(column)} = %s"], [encrypt(value)]
            if index:
                sets.append(f"{qn(index)} = %s")
                params.append(blind_index(value))
            cursor.execute(
                f"UPDATE {qn(table)} SET {', '.join(sets)} WHERE ctid = %s::tid", [*params, row]
            )
        # Updated rows queue deferred foreign-key checks, and PostgreSQL builds no index on a
        # table with pending checks: run them now, then defer again as Django expects.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
