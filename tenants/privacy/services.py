"""Writes for privacy: a person's data export, erasure, and the retention purge.

Every function works on the current connection schema, which must be a tenant schema. Erasure
keeps the user row (ids in the audit log, page revisions and results still point at it) but
leaves nothing on it, or anywhere else in the schema, that identifies the person.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django_tenants.utils import schema_context
from guardian.models import UserObjectPermission
from wagtail.models import ModelLogEntry
from wagtail.users.models import UserProfile

from tenants.audit.models import AuditAction
from tenants.audit.services import record_event, redact_actor
from tenants.privacy import selectors
from tenants.privacy.models import RetentionPolicy
from tenants.privacy.signals import erasing_user


class PrivacyError(Exception):
    """An erasure that was refused; nothing was changed. The message is meant for the admin."""


# --- Export ----------------------------------------------------------------------------------


def export_user_data(*, user, request: HttpRequest | None = None) -> bytes:
    """A zip of JSON files with everything this tenant keeps about ``user``; recorded as
    ``data.exported``.

    One file per section of ``selectors.personal_data`` (``profile.json``,
    ``email_addresses.json``, ``sessions.json``, ``mfa.json``, ``social_accounts.json``,
    ``audit.json``). The export's own audit event is recorded after the data is read, so it is
    not part of the file.
    """
    sections = selectors.personal_data(user=user)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, section in sections.items():
            text = json.dumps(
                section, cls=DjangoJSONEncoder, indent=2, sort_keys=True, ensure_ascii=False
            )
            archive.writestr(f"{name}.json", text + "\n")
    record_event(
        action=AuditAction.DATA_EXPORTED,
        actor=user,
        request=request,
        detail={"what": "personal data"},
    )
    return buffer.getvalue()


# --- Erasure ---------------------------------------------------------------------------------


def erase_user(
    *, user, by, request: HttpRequest | None = None, reason: str = "admin request"
) -> None:
    """Remove ``user``'s personal data from this tenant, in one transaction.

    In order: the audit log is redacted (``redact_actor``, before anything else, since it
    finds failed sign-ins by the current email); every session is ended (allauth's session
    records, the Django sessions they name, and any other session signed in as the user); email
    addresses, MFA authenticators and social accounts are deleted; the Wagtail profile is
    cleared and its avatar file deleted once the transaction commits; Wagtail's and Django's
    admin logs stop naming the user; ``signals.erasing_user`` lets other apps remove what they
    keep; the user row is anonymised (placeholder email, no names, inactive, no password, no
    privileges) and loses its groups and permissions. Finally ``user.erased`` is recorded with
    ``by`` as the actor (None for the retention purge) and only counts in its detail.

    Raises ``PrivacyError``, with nothing changed, when ``by`` is ``user``, when ``user`` is
    the last active superuser, or when ``user`` was erased already.
    """
    User = get_user_model()  # noqa: N806
    with transaction.atomic():
        # Lock the superusers first: two admins erasing each other at once cannot leave the
        # tenant without one.
        superuser_ids = set(
            User.objects.select_for_update()
            .filter(is_superuser=True, is_active=True)
            .values_list("pk", flat=True)
        )
        user = User.objects.select_for_update().get(pk=user.pk)
        if by is not None and by.pk == user.pk:
            raise PrivacyError("You cannot erase your own account.")
        if user.pk in superuser_ids and superuser_ids == {user.pk}:
            raise PrivacyError(
                "This is the portal's last superuser: make someone else a superuser first."
            )
        if selectors.is_erased(user=user):
            raise PrivacyError(f"User #{user.pk} has been erased already.")

        replacement = f"erased user #{user.pk}"
        redacted = redact_actor(user_id=user.pk, replacement=replacement)
        removed = {
            "sessions": _end_sessions(user=user),
            "email_addresses": _delete(EmailAddress.objects.filter(user=user)),
            "authenticators": _delete(Authenticator.objects.filter(user=user)),
            "social_accounts": _delete(SocialAccount.objects.filter(user=user)),
            "avatar": _clear_wagtail_profile(user=user),
        }
        _unname_in_admin_logs(user=user, replacement=replacement)
        erasing_user.send(sender=User, user=user)

        user.email = selectors.erased_email(user_id=user.pk)
        user.first_name = ""
        user.last_name = ""
        user.is_active = False
        user.is_staff = False
        user.is_superuser = False
        user.last_login = None
        user.set_unusable_password()
        user.save()
        # After the row is anonymised: the role.revoked events these record name the
        # placeholder, not the person.
        removed["groups"] = user.groups.count()
        user.groups.clear()
        user.user_permissions.clear()
        _delete_object_permissions(user=user)

        record_event(
            action=AuditAction.USER_ERASED,
            actor=by,
            request=request if by is not None else None,
            obj=user,
            detail={
                "reason": reason,
                "removed": {key: int(value) for key, value in removed.items()},
                "audit_entries_redacted": redacted,
            },
        )


def _delete(queryset) -> int:
    """Delete the rows and return how many of the queryset's own model went (not cascades)."""
    return queryset.delete()[1].get(queryset.model._meta.label, 0)


def _end_sessions(*, user) -> int:
    """Delete the user's sessions: those allauth tracked and any other signed in as them."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    keys = set(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    # Sessions allauth did not track (started before usersessions, or elsewhere) still carry
    # the user's id; session data is signed, not queryable, so each one is decoded.
    user_id = str(user.pk)
    for session in Session.objects.exclude(session_key__in=keys).iterator():
        if session.get_decoded().get("_auth_user_id") == user_id:
            keys.add(session.session_key)
    ended = 0
    for key in sorted(keys):
        store = store_class(key)
        if store.exists(key):
            ended += 1
        store.delete(key)
    UserSession.objects.filter(user=user).delete()
    return ended


def _clear_wagtail_profile(*, user) -> bool:
    """Reset the Wagtail profile's personal fields; delete the avatar file after commit.

    The file goes only once the erasure has committed (a rolled-back erasure keeps it), and
    is deleted inside the tenant schema it belongs to whatever the connection is on by then.
    """
    profile = UserProfile.objects.filter(user=user).first()
    if profile is None:
        return False
    avatar_name = profile.avatar.name if profile.avatar else ""
    storage = profile.avatar.storage
    profile.avatar = ""
    profile.preferred_language = ""
    profile.current_time_zone = ""
    profile.dismissibles = {}
    profile.save()
    if avatar_name:
        schema_name = connection.schema_name

        def delete_avatar() -> None:
            with schema_context(schema_name):
                storage.delete(avatar_name)

        transaction.on_commit(delete_avatar)
    return bool(avatar_name)


def _unname_in_admin_logs(*, user, replacement: str) -> None:
    """Wagtail's and Django's admin histories keep the user's name as the label of entries
    about them (e.g. "edited Zoe Smith"); keep the entries, drop the name."""
    content_type = ContentType.objects.get_for_model(get_user_model())
    ModelLogEntry.objects.filter(content_type=content_type, object_id=str(user.pk)).update(
        label=replacement
    )
    LogEntry.objects.filter(content_type=content_type, object_id=str(user.pk)).update(
        object_repr=replacement
    )


def _delete_object_permissions(*, user) -> None:
    UserObjectPermission.objects.filter(user=user).delete()


# --- Retention -------------------------------------------------------------------------------


def purge_expired_data(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Apply this tenant's ``RetentionPolicy`` as of ``now``; returns what was removed.

    Erases every inactive candidate past the policy's limit (no actor: the policy did it),
    deletes expired Django sessions, and deletes allauth's record of sessions that have
    ended (no live Django session) and were last seen before the sessions limit.
    """
    now = now or timezone.now()
    policy = selectors.retention_policy()

    # Expired sessions first: each erasure below decodes every remaining session.
    sessions_deleted = Session.objects.filter(expire_date__lt=now).delete()[0]

    users_erased = 0
    if policy.erase_inactive_candidates_after_days:
        inactive_since = now - datetime.timedelta(days=policy.erase_inactive_candidates_after_days)
        for user in list(selectors.inactive_candidates(inactive_since=inactive_since)):
            erase_user(user=user, by=None, reason="retention policy")
            users_erased += 1

    user_sessions_deleted = 0
    if policy.delete_ended_sessions_after_days:
        last_seen_before = now - datetime.timedelta(days=policy.delete_ended_sessions_after_days)
        live_sessions = Session.objects.filter(expire_date__gte=now).values("session_key")
        user_sessions_deleted = (
            UserSession.objects.filter(last_seen_at__lt=last_seen_before)
            .exclude(session_key__in=live_sessions)
            .delete()[0]
        )

    return {
        "users_erased": users_erased,
        "sessions_deleted": sessions_deleted,
        "user_sessions_deleted": user_sessions_deleted,
    }


def record_retention_policy_change(
    *, policy: RetentionPolicy, request: HttpRequest | None = None
) -> None:
    """Record ``settings.changed`` for an edit of the retention policy, with its new values."""
    record_event(
        action=AuditAction.SETTINGS_CHANGED,
        request=request,
        obj=policy,
        detail={
            "setting": "retention policy",
            "erase_inactive_candidates_after_days": policy.erase_inactive_candidates_after_days,
            "delete_ended_sessions_after_days": policy.delete_ended_sessions_after_days,
        },
    )
