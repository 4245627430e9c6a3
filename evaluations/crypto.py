"""Encryption at rest for secrets the server must use again (provider API keys).

Fernet (AES-128-CBC with HMAC-SHA256, from the `cryptography` package) under the keys of
`settings.FIELD_ENCRYPTION_KEYS`: the first encrypts, every one decrypts, so an operator rotates
by putting a new key first and keeping the old one until every secret was saved again.
"""

from __future__ import annotations

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class UndecryptableSecret(Exception):
    """The stored secret was encrypted with a key that is no longer configured."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _current().decrypt(token.encode()).decode()
    except InvalidToken:
        raise UndecryptableSecret(
            "The stored API key cannot be decrypted with the configured FIELD_ENCRYPTION_KEY: "
            "enter the key again."
        ) from None
