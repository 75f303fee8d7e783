"""Reads of the current tenant's identity providers.

Every function reads the current connection schema. In the public schema (the platform's own
sign-in) there are no tenant providers, and the table does not exist there: the functions
answer "none" without querying it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django_tenants.utils import get_public_schema_name

from billing import entitlements
from billing import selectors as billing_selectors
from billing.entitlements import Entitlement
from tenants.selectors import current_tenant
from tenants.sso.models import IdentityProvider, ProviderKind


def in_tenant_schema() -> bool:
    """True when the connection is on a tenant schema (where the providers table exists)."""
    return connection.schema_name != get_public_schema_name()


def offered_providers(*, request: HttpRequest | None) -> list[IdentityProvider]:
    """The providers people can sign in with on this portal, by name: the enabled ones, while
    the portal's plan includes single sign-on.

    A portal that moved to a plan without it keeps its providers (the admin still lists and
    edits them) but offers none: they leave the sign-in page, and a sign-in started or
    completed with one finds no app (404), as with a disabled provider. People who signed in
    only that way use "Forgot password" on their verified email.
    """
    if not in_tenant_schema() or not sso_allowance(request=request).allowed:
        return []
    return list(IdentityProvider.objects.filter(enabled=True))


def sso_allowance(*, request: HttpRequest | None) -> Entitlement:
    """May this portal use single sign-on (``billing.entitlements.SSO``)? With a request, the
    subscription row is read once for the whole request (allauth asks several times)."""
    if request is not None and getattr(request, "tenant", None) is not None:
        return billing_selectors.feature_for(request, entitlements.SSO)
    return entitlements.check(current_tenant(), entitlements.SSO)


def all_providers() -> QuerySet[IdentityProvider]:
    """Every provider of this portal, enabled or not, by name (for the admin)."""
    return IdentityProvider.objects.all()


def get_provider_for_admin(*, pk: int) -> IdentityProvider:
    """One provider of this portal by id; ``IdentityProvider.DoesNotExist`` otherwise.

    Another portal's ids find nothing, because only this schema's table is read.
    """
    return IdentityProvider.objects.get(pk=pk)


@dataclass(frozen=True)
class ProviderEndpoint:
    """An address of this portal that the identity provider's administrator must register."""

    label: str
    url: str


def endpoints_for(*, provider: IdentityProvider, request: HttpRequest) -> list[ProviderEndpoint]:
    """What to register at the identity provider: callback URL, or SAML ACS and metadata."""

    def absolute(name: str, **kwargs: str) -> str:
        return request.build_absolute_uri(reverse(name, kwargs=kwargs or None))

    if provider.kind == ProviderKind.GOOGLE:
        return [ProviderEndpoint("Authorized redirect URI", absolute("google_callback"))]
    if provider.kind == ProviderKind.GITHUB:
        return [ProviderEndpoint("Authorization callback URL", absolute("github_callback"))]
    if provider.kind in (ProviderKind.OIDC, ProviderKind.LINKEDIN):
        return [
            ProviderEndpoint(
                "Redirect URI", absolute("openid_connect_callback", provider_id=provider.slug)
            )
        ]
    return [
        ProviderEndpoint(
            "SP entity ID / metadata", absolute("saml_metadata", organization_slug=provider.slug)
        ),
        ProviderEndpoint(
            "Assertion consumer service (ACS)",
            absolute("saml_acs", organization_slug=provider.slug),
        ),
    ]
