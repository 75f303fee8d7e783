"""Forms of the single sign-on admin. They only parse input: the rules are in the model's
``clean`` and are applied by ``services`` (whose errors the views put back on the form)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from tenants.sso.models import IdentityProvider, ProviderKind
from tenants.sso.services import CHANGEABLE_FIELDS


class ProviderForm(forms.Form):
    """Settings of an existing provider. The secret is write-only: blank keeps the stored one."""

    name = forms.CharField(
        label="Button label",
        max_length=80,
        help_text="Shown on the sign-in page as “Sign in with <label>”.",
    )
    enabled = forms.BooleanField(
        required=False, initial=True, help_text="Offer this provider on the sign-in page."
    )
    client_id = forms.CharField(
        label="Client ID",
        max_length=191,
        required=False,
        help_text="Google, GitHub, LinkedIn and OpenID Connect.",
    )
    secret = forms.CharField(
        label="Client secret",
        required=False,
        # Never rendered back; "new-password" stops browsers filling in the admin's password.
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Google, GitHub, LinkedIn and OpenID Connect. Stored encrypted.",
    )
    server_url = forms.URLField(
        label="Issuer URL",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="OpenID Connect only, e.g. https://login.example.edu/realms/exams "
        "(/.well-known/openid-configuration is added).",
    )
    idp_entity_id = forms.CharField(
        label="IdP entity ID", max_length=500, required=False, help_text="SAML only."
    )
    idp_sso_url = forms.URLField(
        label="IdP single sign-on URL",
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text="SAML only (HTTP-Redirect binding).",
    )
    idp_x509_cert = forms.CharField(
        label="IdP signing certificate",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="SAML only: the PEM text, "
        "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----.",
    )

    def __init__(self, *args, provider: IdentityProvider | None = None, **kwargs) -> None:
        if provider is not None:
            kwargs.setdefault(
                "initial",
                {field: getattr(provider, field) for field in CHANGEABLE_FIELDS},
            )
        super().__init__(*args, **kwargs)
        if provider is not None and provider.has_secret:
            self.fields[
                "secret"
            ].help_text = (
                "A secret is stored. Leave blank to keep it, or enter a new one to replace it."
            )

    def add_service_errors(self, error: ValidationError) -> None:
        """Put a service's ``ValidationError`` on the fields it names (others on the form)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class AddProviderForm(ProviderForm):
    """A new provider: also its kind and its slug, which cannot change afterwards."""

    kind = forms.ChoiceField(label="Kind", choices=ProviderKind.choices)
    slug = forms.SlugField(
        label="Short name",
        max_length=64,
        help_text="Used in this portal's sign-in URLs, e.g. northfield-sso. "
        "Cannot be changed later.",
    )
    field_order = ["kind", "name", "slug", "enabled"]
