from __future__ import annotations

import hashlib
import ipaddress
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting


def parse_networks(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks = []
    for line_no, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            networks.append(ipaddress.ip_network(line, strict=False))
        except ValueError as exc:
            raise ValidationError(
                f"Line {line_no}: '{line}' is not an IP address or network."
            ) from exc
    return networks


def parse_domains(text: str) -> list[str]:
    return [
        d.strip().lower().lstrip("@") for d in (text or "").replace(",", " ").split() if d.strip()
    ]


@register_setting(icon="lock")
class AccessPolicy(BaseGenericSetting):
    """Who may join this portal and how staff must sign in. Editors see the sign-up policy, the
    email domains allowed to sign up, whether staff must use two-factor authentication, and an
    optional list of networks allowed to reach the admin."""

    class SignUp(models.TextChoices):
        OPEN = "open", "Anyone may sign up"
        INVITE_ONLY = "invite_only", "Invitation only"
        DOMAINS = "domains", "Only addresses at the domains below (or by invitation)"

    signup_policy = models.CharField(
        max_length=20, choices=SignUp.choices, default=SignUp.INVITE_ONLY
    )
    allowed_email_domains = models.TextField(
        blank=True, help_text="For example: northfield.edu students.northfield.edu"
    )
    mfa_required_for_staff = models.BooleanField(
        "require two-factor authentication for staff", default=False
    )
    admin_ip_allowlist = models.TextField(
        "admin network allowlist",
        blank=True,
        help_text="One IP address or network per line (e.g. 192.0.2.0/24). Empty: any network.",
    )

    panels = [
        MultiFieldPanel(
            [FieldPanel("signup_policy"), FieldPanel("allowed_email_domains")], heading="Sign-up"
        ),
        MultiFieldPanel(
            [FieldPanel("mfa_required_for_staff"), FieldPanel("admin_ip_allowlist")],
            heading="Staff security",
        ),
    ]

    class Meta:
        verbose_name = "Access policy"

    def clean(self) -> None:
        super().clean()
        parse_networks(self.admin_ip_allowlist)
        if self.signup_policy == self.SignUp.DOMAINS and not parse_domains(
            self.allowed_email_domains
        ):
            raise ValidationError(
                {"allowed_email_domains": "List at least one domain for this sign-up policy."}
            )

    @property
    def domains(self) -> list[str]:
        return parse_domains(self.allowed_email_domains)

    @property
    def networks(self):
        return parse_networks(self.admin_ip_allowlist)


INVITATION_LIFETIME = timedelta(days=14)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    """An admin's invitation for one email address to join the portal in a role. Only the
    token's hash is stored; the link in the email carries the token."""

    email = models.EmailField()
    role = models.CharField(max_length=30)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"],
                condition=models.Q(accepted_at__isnull=True),
                name="one_pending_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_usable(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class ApiKey(models.Model):
    """A key for the tenant's REST API (``Authorization: Bearer viva_<prefix>_<secret>``).
    Only a hash of the secret is stored; the full key is shown once, when it is made."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"
