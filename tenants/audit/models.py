"""The tenant's audit log: one row per security-relevant event, never changed after the fact.

The table is append-only in the database itself (see migration 0002): UPDATE, DELETE and
TRUNCATE are refused by triggers, whoever connects. Two narrow updates are let through:
Django's ``on_delete=SET_NULL`` detaching a deleted user (``actor_id`` to NULL and nothing
else), and privacy erasure through ``services.redact_actor``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AuditAction(models.TextChoices):
    """What happened. Add a member (and its migration) for every new kind of event."""

    LOGIN = "auth.login", "Signed in"
    LOGIN_FAILED = "auth.login_failed", "Sign-in failed"
    LOGOUT = "auth.logout", "Signed out"
    MFA_ACTIVATED = "mfa.activated", "Two-factor authenticator added"
    MFA_DEACTIVATED = "mfa.deactivated", "Two-factor authenticator removed"
    ROLE_GRANTED = "role.granted", "Role granted"
    ROLE_REVOKED = "role.revoked", "Role revoked"
    PERMISSION_GRANTED = "permission.granted", "Permission granted"
    PERMISSION_REVOKED = "permission.revoked", "Permission revoked"
    SETTINGS_CHANGED = "settings.changed", "Settings changed"
    DATA_EXPORTED = "data.exported", "Data exported"
    USER_ERASED = "user.erased", "User erased"
    USER_DISABLED = "user.disabled", "User disabled"
    ATTEMPT_TIME_ADDED = "attempt.time_added", "Attempt time added"
    ATTEMPT_CLOSED = "attempt.closed", "Attempt closed by a proctor"
    ATTEMPT_SESSION_RELEASED = "attempt.session_released", "Attempt session released"
    RESPONSE_GRADED = "response.graded", "Response graded by hand"
    RESULTS_RELEASED = "results.released", "Exam results released"


class AuditEvent(models.Model):
    """Who did what, when, from where, to which object.

    ``actor_label`` keeps the actor's email as it was, so an entry still says who acted after
    the user is deleted (``actor`` then becomes NULL). ``object_*`` name the object acted on
    by model label, primary key and its text at the time.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=64, choices=AuditAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    actor_label = models.TextField(blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    object_type = models.TextField(blank=True)
    object_id = models.TextField(blank=True)
    object_label = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["-at", "-id"]
        # Entries are written by code, never added, changed or deleted by hand.
        default_permissions = ("view",)
        verbose_name = "audit event"
        verbose_name_plural = "audit events"

    def __str__(self) -> str:
        who = self.actor_label or "anonymous"
        return f"{self.get_action_display()} by {who} at {self.at:%Y-%m-%d %H:%M:%S}"
