"""allauth's social-account hooks: the apps come from the tenant's own IdentityProvider rows.

allauth asks the adapter for its "apps" (``list_apps``) whenever it lists providers on the
sign-in page or starts, continues or completes a social sign-in. Here they are built, unsaved,
from the providers the current tenant schema offers (enabled, and single sign-on in its plan)
only: there is no ``SocialApp`` row and no ``SOCIALACCOUNT_PROVIDERS`` app anywhere, so a
portal can never see or use another portal's provider, and the platform (public schema) has
none.
"""

from __future__ import annotations

import logging

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest
from django.shortcuts import redirect
from django.urls import reverse

from tenants.sso import crypto, selectors
from tenants.sso.models import IdentityProvider, ProviderKind

logger = logging.getLogger(__name__)

# SAML attributes read from the IdP's assertion: the standard OIDs, the names Microsoft Entra
# ID and ADFS send, and the plain names most other IdPs can be set to send.
SAML_ATTRIBUTE_MAPPING = {
    "uid": [
        "urn:oasis:names:tc:SAML:attribute:subject-id",
        "urn:oid:0.9.2342.19200300.100.1.1",
        "http://schemas.microsoft.com/identity/claims/objectidentifier",
        "uid",
    ],
    "email": [
        "urn:oid:0.9.2342.19200300.100.1.3",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "email",
    ],
    "first_name": [
        "urn:oid:2.5.4.42",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "first_name",
        "givenName",
    ],
    "last_name": [
        "urn:oid:2.5.4.4",
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
        "last_name",
        "sn",
    ],
}


class ProviderNotConfigured(SocialApp.DoesNotExist, Http404):
    """No enabled provider of this portal matches.

    Still a ``SocialApp.DoesNotExist`` for allauth's code that expects one (its OIDC and SAML
    views turn it into 404), and a 404 where allauth lets it through (``/accounts/google/…``
    on a portal without Google).
    """


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(
        self, request: HttpRequest | None, provider: str | None = None, client_id: str | None = None
    ) -> list[SocialApp]:
        """Unsaved apps for the providers this portal offers (enabled, and single sign-on in
        its plan: ``selectors.offered_providers``), filtered like allauth's.

        ``provider`` matches an app's provider type ("google", "openid_connect", "saml") or
        its ``provider_id`` (the row's slug); ``client_id`` matches the client id (for SAML,
        the slug: allauth's SAML URLs name the app by client id).
        """
        apps = []
        for row in selectors.offered_providers(request=request):
            app = build_social_app(provider=row, request=request)
            if app is None:
                continue
            if provider and provider not in (app.provider, app.provider_id):
                continue
            if client_id and app.client_id != client_id:
                continue
            apps.append(app)
        return apps

    def save_user(self, request: HttpRequest, sociallogin, form=None):
        """A first sign-in through SSO joins the portal like an email sign-up: as a candidate
        holding a seat (unless the sign-up form's invitation already gave a role). With no
        seat left nothing is kept and the sign-in page says why."""
        from tenants.access.services import RoleError, join_as_candidate

        try:
            with transaction.atomic():
                user = super().save_user(request, sociallogin, form)
                if not user.groups.exists():
                    join_as_candidate(user=user)
        except RoleError as exc:
            messages.error(request, str(exc))
            raise ImmediateHttpResponse(redirect("account_login")) from exc
        return user

    def get_app(self, request: HttpRequest, provider, client_id=None) -> SocialApp:
        try:
            return super().get_app(request, provider=provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            raise ProviderNotConfigured(f"No sign-in provider {provider!r} here.") from None

    def list_providers(self, request: HttpRequest) -> list:
        providers = super().list_providers(request)
        for provider in providers:
            _use_app_name(provider)
        return providers

    def get_provider(self, request: HttpRequest, provider, client_id=None):
        return _use_app_name(super().get_provider(request, provider, client_id=client_id))


def build_social_app(
    *, provider: IdentityProvider, request: HttpRequest | None
) -> SocialApp | None:
    """The unsaved allauth app for one provider row, or None if its secret is unreadable."""
    try:
        secret = provider.get_secret()
    except crypto.DecryptionError:
        # A removed encryption key: leave this provider out rather than break sign-in.
        logger.error("SSO provider %s: the client secret no longer decrypts", provider.slug)
        return None
    if provider.kind in (ProviderKind.GOOGLE, ProviderKind.GITHUB):
        return SocialApp(
            provider=provider.kind,
            name=provider.name,
            client_id=provider.client_id,
            secret=secret,
            settings={},
        )
    if provider.kind in (ProviderKind.OIDC, ProviderKind.LINKEDIN):
        settings: dict = {"server_url": provider.server_url}
        if provider.kind == ProviderKind.OIDC:
            settings["oauth_pkce_enabled"] = True
        return SocialApp(
            provider="openid_connect",
            provider_id=provider.slug,
            name=provider.name,
            client_id=provider.client_id,
            secret=secret,
            settings=settings,
        )
    if provider.kind == ProviderKind.SAML:
        saml_settings: dict = {
            "idp": {
                "entity_id": provider.idp_entity_id,
                "sso_url": provider.idp_sso_url,
                "x509cert": provider.idp_x509_cert,
            },
            "attribute_mapping": SAML_ATTRIBUTE_MAPPING,
        }
        if request is not None:
            # This portal's host, as the IdP sees it in the metadata it was given.
            metadata = reverse("saml_metadata", kwargs={"organization_slug": provider.slug})
            saml_settings["sp"] = {"entity_id": request.build_absolute_uri(metadata)}
        return SocialApp(
            provider="saml",
            provider_id=provider.slug,
            name=provider.name,
            # allauth's SAML URLs (/accounts/saml/<client_id>/…) address the app by client id.
            client_id=provider.slug,
            settings=saml_settings,
        )
    return None


def _use_app_name(provider):
    """Label Google and GitHub with the portal's own name for them, as OIDC and SAML are."""
    app = getattr(provider, "app", None)
    if app is not None and app.name:
        provider.name = app.name
    return provider
