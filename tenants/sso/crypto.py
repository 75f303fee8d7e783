"""Encryption of secrets stored in the database (SSO client secrets), with key rotation.

The keys are ``settings.VIVA_FIELD_ENCRYPTION_KEYS``: Fernet keys (32 bytes, urlsafe base64),
newest first. The newest key encrypts; every key is tried to decrypt, so a key can be rotated
by putting a new one first and keeping the old ones until ``rotate`` has re-encrypted every
token (``services.reencrypt_provider_secrets``). With no keys configured, one key is derived
from ``settings.SECRET_KEY`` with HKDF-SHA256 and a fixed context string, so a development
setup works without configuration (changing SECRET_KEY then makes old tokens unreadable).
"""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# Changing this string changes the derived key: tokens made with the old one stop decrypting.
DERIVATION_CONTEXT = b"viva.field-encryption.v1"


class DecryptionError(Exception):
    """A token that none of the configured keys decrypts (a key was removed, or tampering)."""


def encrypt(text: str) -> str:
    """``text`` encrypted with the newest key, as an ASCII Fernet token."""
    return _multifernet().encrypt(text.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The text of a token made by ``encrypt`` with any of the configured keys."""
    try:
        return _multifernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("The value cannot be decrypted with the configured keys.") from exc


def rotate(token: str) -> str:
    """The same text re-encrypted with the newest key (after a new key was put first)."""
    try:
        return _multifernet().rotate(token.encode("ascii")).decode("ascii")
    except (InvalidToken, UnicodeError) as exc:
        raise DecryptionError("The value cannot be decrypted with the configured keys.") from exc


def derive_key(secret_key: str) -> bytes:
    """The Fernet key derived from ``secret_key`` (used when no keys are configured)."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=DERIVATION_CONTEXT).derive(
        secret_key.encode()
    )
    return base64.urlsafe_b64encode(raw)


def _multifernet() -> MultiFernet:
    return _build(tuple(settings.VIVA_FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


@functools.lru_cache(maxsize=8)
def _build(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        if not secret_key:
            raise ImproperlyConfigured(
                "Set VIVA_FIELD_ENCRYPTION_KEYS or DJANGO_SECRET_KEY to store secrets."
            )
        return MultiFernet([Fernet(derive_key(secret_key))])
    fernets = []
    for position, key in enumerate(keys, start=1):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError) as exc:
            # Never echo the key itself.
            raise ImproperlyConfigured(
                f"VIVA_FIELD_ENCRYPTION_KEYS: key {position} is not a Fernet key "
                "(32 bytes, urlsafe base64; make one with Fernet.generate_key())."
            ) from exc
    return MultiFernet(fernets)
