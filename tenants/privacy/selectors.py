"""Reads for privacy: what a person's export holds, who may erase, who is due for erasure.

Everything here reads the current connection schema, which must be a tenant schema: a user id
or email from another tenant finds nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from wagtail.users.models import UserProfile

from tenants.audit.models import AuditEvent
from tenants.privacy.models import RetentionPolicy
from tenants.privacy.signals import collecting_personal_data

# An erased user's email is ``erased-<pk>@invalid.example`` (RFC 2606: never deliverable).
ERASED_EMAIL_DOMAIN = "invalid.example"


def erased_email(*, user_id: int) -> str:
    """The placeholder email an erased user keeps (the column is unique and required)."""
    return f"erased-{user_id}@{ERASED_EMAIL_DOMAIN}"


def is_erased(*, user) -> bool:
    return user.email == erased_email(user_id=user.pk)


def personal_data(*, user) -> dict[str, Any]:
    """Everything Viva keeps about ``user`` in this tenant, one section per export file.

    Secrets are left out on purpose: no password hash, session keys, MFA secrets or recovery
    codes, and no social-login tokens or provider payloads.
    """
    sections = {
        "profile": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "is_active": user.is_active,
            "groups": list(user.groups.order_by("name").values_list("name", flat=True)),
        },
        "email_addresses": list(
            EmailAddress.objects.filter(user=user)
            .order_by("email")
            .values("email", "primary", "verified")
        ),
        "sessions": list(
            UserSession.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values("ip", "user_agent", "created_at", "last_seen_at")
        ),
        "mfa": list(
            Authenticator.objects.filter(user=user)
            .order_by("created_at", "pk")
            .values("type", "created_at", "last_used_at")
        ),
        "social_accounts": list(
            SocialAccount.objects.filter(user=user)
            .order_by("provider", "uid")
            .values("provider", "uid", "date_joined")
        ),
        "audit": list(
            AuditEvent.objects.filter(actor=user)
            .order_by("at", "id")
            .values("at", "action", "ip", "object_type", "object_id", "object_label", "detail")
        ),
    }
    for _receiver, extra in collecting_personal_data.send(sender=type(user), user=user):
        sections.update(extra or {})
    return sections


@dataclass(frozen=True)
class ErasureSummary:
    """What erasing a user removes, counted before it happens (shown on the confirmation)."""

    sessions: int
    email_addresses: int
    authenticators: int
    social_accounts: int
    groups: int
    has_avatar: bool
    audit_entries_as_actor: int


def erasure_summary(*, user) -> ErasureSummary:
    profile = UserProfile.objects.filter(user=user).first()
    return ErasureSummary(
        sessions=UserSession.objects.filter(user=user).count(),
        email_addresses=EmailAddress.objects.filter(user=user).count(),
        authenticators=Authenticator.objects.filter(user=user).count(),
        social_accounts=SocialAccount.objects.filter(user=user).count(),
        groups=user.groups.count(),
        has_avatar=bool(profile and profile.avatar),
        audit_entries_as_actor=AuditEvent.objects.filter(actor=user).count(),
    )


def user_can_erase_users(*, user) -> bool:
    """The one check for the erasure views and menu item: active superusers of the tenant."""
    return bool(user is not None and user.is_authenticated and user.is_active and user.is_superuser)


def get_user(*, user_id: int):
    """A user of the current tenant, or None (another tenant's ids mean nothing here)."""
    return get_user_model().objects.filter(pk=user_id).first()


def find_user_by_email(*, email: str):
    """The user of the current tenant with this email (any case), or None."""
    email = (email or "").strip()
    if not email:
        return None
    return get_user_model().objects.filter(email__iexact=email).first()


def other_active_superusers_exist(*, user) -> bool:
    return (
        get_user_model()
        .objects.filter(is_superuser=True, is_active=True)
        .exclude(pk=user.pk)
        .exists()
    )


def retention_policy() -> RetentionPolicy:
    """This tenant's policy (created with the defaults on first use)."""
    return RetentionPolicy.load()


def inactive_candidates(*, inactive_since: datetime.datetime) -> QuerySet:
    """Candidates (neither staff nor superuser, not already erased) whose last sign-in, or
    joining if they never signed in, was before ``inactive_since``."""
    return (
        get_user_model()
        .objects.filter(is_staff=False, is_superuser=False)
        .filter(
            Q(last_login__lt=inactive_since)
            | Q(last_login__isnull=True, date_joined__lt=inactive_since)
        )
        .exclude(email__iendswith=f"@{ERASED_EMAIL_DOMAIN}", is_active=False)
        .order_by("pk")
    )
