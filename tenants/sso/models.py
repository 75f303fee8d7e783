"""A tenant's identity providers: who may sign people in to this portal, and how.

Rows live in the tenant schema, so each portal has its own providers and secrets. allauth never
sees a ``SocialApp`` row: ``adapter.SocialAccountAdapter.list_apps`` builds unsaved apps from
the enabled rows of the current schema on each request.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from urllib.parse import urlsplit

from cryptography import x509
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from tenants.sso import crypto

LINKEDIN_SERVER_URL = "https://www.linkedin.com/oauth"


class ProviderKind(models.TextChoices):
    GOOGLE = "google", "Google"
    GITHUB = "github", "GitHub"
    LINKEDIN = "linkedin", "LinkedIn"
    OIDC = "oidc", "OpenID Connect"
    SAML = "saml", "SAML 2.0"


# Kinds that sign in with OAuth 2 / OpenID Connect and need a client id and secret.
OAUTH_KINDS = frozenset(
    {ProviderKind.GOOGLE, ProviderKind.GITHUB, ProviderKind.LINKEDIN, ProviderKind.OIDC}
)
# Kinds of which a portal can have one only: allauth addresses them by kind, not by slug.
SINGLE_KINDS = frozenset({ProviderKind.GOOGLE, ProviderKind.GITHUB})
# Which fields each kind uses; the others are cleared when a row is saved through the services.
KIND_FIELDS: dict[str, frozenset[str]] = {
    ProviderKind.GOOGLE: frozenset({"client_id", "secret_encrypted"}),
    ProviderKind.GITHUB: frozenset({"client_id", "secret_encrypted"}),
    ProviderKind.LINKEDIN: frozenset({"client_id", "secret_encrypted", "server_url"}),
    ProviderKind.OIDC: frozenset({"client_id", "secret_encrypted", "server_url"}),
    ProviderKind.SAML: frozenset({"idp_entity_id", "idp_sso_url", "idp_x509_cert"}),
}
CONFIG_FIELDS = frozenset().union(*KIND_FIELDS.values())


class IdentityProvider(models.Model):
    """One way to sign in to this portal: Google, GitHub, LinkedIn, an OIDC issuer or a SAML IdP.

    The client secret is stored encrypted (``crypto``); set it with ``set_secret`` and read it
    with ``get_secret``. Nothing else ever holds the plaintext.
    """

    kind = models.CharField(max_length=16, choices=ProviderKind.choices)
    slug = models.SlugField(
        max_length=64,
        unique=True,
        help_text="Short name used in sign-in URLs, e.g. northfield-sso. Cannot be changed later.",
    )
    name = models.CharField(
        max_length=80, help_text="Shown on the sign-in page as “Sign in with <name>”."
    )
    enabled = models.BooleanField(default=True)
    client_id = models.CharField("client ID", max_length=191, blank=True)
    secret_encrypted = models.TextField(blank=True, editable=False)
    server_url = models.URLField(
        "issuer URL",
        max_length=500,
        blank=True,
        help_text="OpenID Connect issuer; /.well-known/openid-configuration is added to it.",
    )
    idp_entity_id = models.CharField("IdP entity ID", max_length=500, blank=True)
    idp_sso_url = models.URLField("IdP single sign-on URL", max_length=500, blank=True)
    idp_x509_cert = models.TextField(
        "IdP signing certificate", blank=True, help_text="PEM (-----BEGIN CERTIFICATE-----…)."
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = "identity provider"
        verbose_name_plural = "identity providers"
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(kind__in=sorted(SINGLE_KINDS)),
                name="sso_one_google_one_github",
                violation_error_message="This portal already has a provider of this kind.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_kind_display()})"

    # --- the secret -------------------------------------------------------------------------

    def set_secret(self, plaintext: str) -> None:
        """Keep ``plaintext`` encrypted; an empty string removes the secret."""
        self.secret_encrypted = crypto.encrypt(plaintext) if plaintext else ""

    def get_secret(self) -> str:
        """The plaintext secret ("" when none). Raises ``crypto.DecryptionError``."""
        return crypto.decrypt(self.secret_encrypted) if self.secret_encrypted else ""

    secret = property(get_secret, set_secret)

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    @property
    def secret_is_readable(self) -> bool:
        """False when the stored secret no longer decrypts (its key was removed)."""
        try:
            self.get_secret()
        except crypto.DecryptionError:
            return False
        return True

    # --- validation -------------------------------------------------------------------------

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}

        def need(field: str, message: str) -> None:
            if not str(getattr(self, field) or "").strip():
                errors.setdefault(field, []).append(message)

        from allauth.socialaccount.providers import registry

        if self.slug and self.slug in {cls.id for cls in registry.get_class_list()}:
            errors.setdefault("slug", []).append(
                f"“{self.slug}” is reserved by the sign-in system; choose another short name."
            )
        label = self.get_kind_display()
        if self.kind in OAUTH_KINDS:
            need("client_id", f"{label} needs the client ID issued for this portal.")
            if not self.secret_encrypted:
                errors.setdefault("secret", []).append(
                    f"{label} needs the client secret issued for this portal."
                )
        if self.kind == ProviderKind.OIDC:
            need("server_url", "OpenID Connect needs the issuer URL of the identity provider.")
            if self.server_url:
                _check_secure_url(self.server_url, field="server_url", errors=errors)
        if self.kind == ProviderKind.SAML:
            need("idp_entity_id", "SAML needs the identity provider's entity ID.")
            need("idp_sso_url", "SAML needs the identity provider's single sign-on URL.")
            need("idp_x509_cert", "SAML needs the identity provider's signing certificate.")
            if self.idp_sso_url:
                _check_secure_url(self.idp_sso_url, field="idp_sso_url", errors=errors)
            if self.idp_x509_cert.strip() and not _is_certificate(self.idp_x509_cert):
                errors.setdefault("idp_x509_cert", []).append(
                    "This is not an X.509 certificate: paste the PEM text, "
                    "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----."
                )
        if errors:
            raise ValidationError(errors)


def _check_secure_url(url: str, *, field: str, errors: dict[str, list[str]]) -> None:
    """Identity provider URLs must be https. In development (DEBUG) a local test IdP on this
    machine may use http; in production that would let an admin make the server fetch from
    its own loopback services."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return
    if settings.DEBUG and parts.scheme == "http" and _is_local_host(parts.hostname or ""):
        return
    errors.setdefault(field, []).append("Use an https:// address.")


def _is_local_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_certificate(text: str) -> bool:
    text = text.strip()
    try:
        if "-----BEGIN CERTIFICATE-----" in text:
            x509.load_pem_x509_certificate(text.encode())
        else:
            x509.load_der_x509_certificate(base64.b64decode("".join(text.split()), validate=True))
    except (ValueError, binascii.Error):
        return False
    return True
