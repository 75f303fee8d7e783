"""API keys of a tenant: making, checking and revoking them.

API access is a plan feature (``billing.entitlements.API_ACCESS``): a key is made only while
the portal's plan includes it, and ``config.api`` refuses the requests of a portal whose plan
no longer does (403 with the upgrade message). Keys are kept across a downgrade, so they work
again after an upgrade unless revoked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.utils import timezone

from billing import entitlements
from tenants.access.models import ApiKey
from tenants.selectors import current_tenant

SCOPES = {
    "questions:read": "Read the question bank",
    "exams:read": "Read exams and their published versions",
}


class ApiKeyError(ValueError):
    pass


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(*, name: str, scopes: list[str], by=None) -> tuple[ApiKey, str]:
    """Make a key; returns the row and the full key, which is never shown again."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ApiKeyError(f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(SCOPES)}.")
    if not (name or "").strip():
        raise ApiKeyError("A key needs a name, e.g. the system that will use it.")
    allowance = entitlements.check(current_tenant(), entitlements.API_ACCESS)
    if not allowance.allowed:
        raise ApiKeyError(allowance.message)
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name.strip(),
        prefix=prefix,
        key_hash=_digest(secret),
        scopes=sorted(set(scopes)),
        created_by=by,
    )
    return key, f"viva_{prefix}_{secret}"


def authenticate(raw: str) -> ApiKey | None:
    """The live key for ``raw``, or None (wrong, malformed or revoked)."""
    parts = (raw or "").split("_", 2)
    if len(parts) != 3 or parts[0] != "viva":
        return None
    key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.key_hash, _digest(parts[2])):
        return None
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=timezone.now())
    return key


def revoke(*, key: ApiKey) -> None:
    ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
