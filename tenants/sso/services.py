"""Writes to the current tenant's identity providers, each recorded in the audit log.

Every function works in the current connection schema, which must be a tenant schema. Rules
live in ``IdentityProvider.clean`` and are checked here before anything is written; a refused
change raises ``ValidationError`` and writes nothing. Single sign-on is a plan feature: adding a
provider or enabling one needs it (``billing.entitlements.SSO``); changing, disabling and
deleting the providers a portal already has do not, so a portal that moved to a smaller plan
keeps its settings for the day it upgrades again (sign-in stops offering them meanwhile).
Audit entries say what happened and to which provider, never a secret.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from billing import entitlements
from tenants.audit.models import AuditAction
from tenants.audit.services import record_event
from tenants.selectors import current_tenant
from tenants.sso import crypto
from tenants.sso.models import (
    CONFIG_FIELDS,
    KIND_FIELDS,
    LINKEDIN_SERVER_URL,
    IdentityProvider,
    ProviderKind,
)

# What an admin may change after creation; kind and slug are fixed (the slug is in the URLs
# registered at the identity provider).
CHANGEABLE_FIELDS = (
    "name",
    "enabled",
    "client_id",
    "server_url",
    "idp_entity_id",
    "idp_sso_url",
    "idp_x509_cert",
)


@transaction.atomic
def add_identity_provider(
    *,
    kind: str,
    slug: str,
    name: str,
    enabled: bool = True,
    client_id: str = "",
    secret: str = "",
    server_url: str = "",
    idp_entity_id: str = "",
    idp_sso_url: str = "",
    idp_x509_cert: str = "",
    actor: Any = None,
    request: HttpRequest | None = None,
) -> IdentityProvider:
    """Add a provider to this portal and record ``settings.changed`` (``sso: added``)."""
    require_sso_in_plan()
    provider = IdentityProvider(
        kind=kind,
        slug=slug.strip(),
        name=name.strip(),
        enabled=enabled,
        client_id=client_id.strip(),
        server_url=server_url.strip(),
        idp_entity_id=idp_entity_id.strip(),
        idp_sso_url=idp_sso_url.strip(),
        idp_x509_cert=idp_x509_cert.strip(),
    )
    if secret:
        provider.set_secret(secret)
    _normalise(provider)
    provider.full_clean()
    provider.save()
    record_event(
        action=AuditAction.SETTINGS_CHANGED,
        actor=actor,
        request=request,
        obj=provider,
        detail={"sso": "added", "kind": provider.kind},
    )
    return provider


@transaction.atomic
def change_identity_provider(
    *,
    provider: IdentityProvider,
    secret: str = "",
    actor: Any = None,
    request: HttpRequest | None = None,
    **changes: Any,
) -> IdentityProvider:
    """Change a provider's settings; a blank ``secret`` keeps the stored one.

    ``changes`` may name only ``CHANGEABLE_FIELDS``. Records ``settings.changed`` with
    ``sso: changed`` and the names of the fields that changed (``secret`` when it was
    replaced, never its value); records nothing when nothing changed.
    """
    unknown = set(changes) - set(CHANGEABLE_FIELDS)
    if unknown:
        raise ValueError(f"These fields cannot be changed: {', '.join(sorted(unknown))}")
    # Work on a fresh copy, so a refused change leaves the caller's object as it was.
    current = IdentityProvider.objects.select_for_update().get(pk=provider.pk)
    if changes.get("enabled") and not current.enabled:
        require_sso_in_plan()
    before = {field: getattr(current, field) for field in CHANGEABLE_FIELDS}
    for field, value in changes.items():
        setattr(current, field, value.strip() if isinstance(value, str) else value)
    if secret:
        current.set_secret(secret)
    _normalise(current)
    current.full_clean()
    changed = [field for field in CHANGEABLE_FIELDS if getattr(current, field) != before[field]]
    if secret:
        changed.append("secret")
    if changed:
        current.save()
        record_event(
            action=AuditAction.SETTINGS_CHANGED,
            actor=actor,
            request=request,
            obj=current,
            detail={"sso": "changed", "kind": current.kind, "fields": changed},
        )
    return current


def set_identity_provider_enabled(
    *,
    provider: IdentityProvider,
    enabled: bool,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> IdentityProvider:
    """Enable or disable a provider (a disabled one is not offered and cannot sign in)."""
    return change_identity_provider(
        provider=provider, enabled=enabled, actor=actor, request=request
    )


@transaction.atomic
def remove_identity_provider(
    *,
    provider: IdentityProvider,
    actor: Any = None,
    request: HttpRequest | None = None,
) -> None:
    """Delete a provider and record ``settings.changed`` (``sso: removed``).

    Accounts already linked to it keep their link rows; re-adding a provider with the same
    slug (or the same Google/GitHub app) reconnects them.
    """
    record_event(
        action=AuditAction.SETTINGS_CHANGED,
        actor=actor,
        request=request,
        obj=provider,
        detail={"sso": "removed", "kind": provider.kind},
    )
    provider.delete()


def require_sso_in_plan() -> None:
    """Refuse, with the upgrade message, when this portal's plan has no single sign-on."""
    allowance = entitlements.check(current_tenant(), entitlements.SSO)
    if not allowance.allowed:
        raise ValidationError(allowance.message, code="plan")


def reencrypt_provider_secrets() -> int:
    """Re-encrypt every stored secret of this portal with the newest key; returns the count.

    Run for every tenant after putting a new key first in ``VIVA_FIELD_ENCRYPTION_KEYS``; the
    old key can be removed once this has run everywhere. Raises ``crypto.DecryptionError`` if
    a secret no longer decrypts with any configured key.
    """
    count = 0
    with transaction.atomic():
        for provider in IdentityProvider.objects.select_for_update().exclude(secret_encrypted=""):
            provider.secret_encrypted = crypto.rotate(provider.secret_encrypted)
            provider.save(update_fields=["secret_encrypted"])
            count += 1
    return count


def _normalise(provider: IdentityProvider) -> None:
    """Clear the fields the provider's kind does not use; LinkedIn's issuer is fixed."""
    if provider.kind not in KIND_FIELDS:
        raise ValidationError({"kind": "Choose Google, GitHub, LinkedIn, OpenID Connect or SAML."})
    if provider.kind == ProviderKind.LINKEDIN:
        provider.server_url = LINKEDIN_SERVER_URL
    for field in CONFIG_FIELDS - KIND_FIELDS[provider.kind]:
        setattr(provider, field, "")
