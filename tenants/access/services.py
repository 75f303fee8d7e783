"""Writes of the access app: invitations, ending sessions, disabling accounts."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.access.models import INVITATION_LIFETIME, Invitation, hash_token
from tenants.access.roles import ROLES

MAX_CSV_BYTES = 1024 * 1024
MAX_CSV_ROWS = 2000


class InvitationError(Exception):
    """An invitation was refused; the message says why. Nothing changed."""


@dataclass
class InviteReport:
    sent: list[str] = field(default_factory=list)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)  # (line, email, reason)


def _check_invitee(email: str, role: str) -> str:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise InvitationError(f"'{email}' is not a valid email address.") from exc
    if role not in ROLES:
        raise InvitationError(f"'{role}' is not a role here ({', '.join(ROLES)}).")
    if get_user_model().objects.filter(email__iexact=email).exists():
        raise InvitationError(f"{email} already has an account.")
    pending = Invitation.objects.filter(email=email, accepted_at__isnull=True).first()
    if pending is not None and pending.is_usable:
        raise InvitationError(f"{email} already has a pending invitation.")
    return email


def invite_user(*, email: str, role: str, invited_by, portal_url: str) -> Invitation:
    """Invite one person; the branded email with their link is sent after commit."""
    email = _check_invitee(email, role)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        Invitation.objects.filter(email=email, accepted_at__isnull=True).delete()  # expired
        try:
            invitation = Invitation.objects.create(
                email=email,
                role=role,
                token_hash=hash_token(token),
                invited_by=invited_by,
                expires_at=timezone.now() + INVITATION_LIFETIME,
            )
        except IntegrityError as exc:
            raise InvitationError(f"{email} already has a pending invitation.") from exc
        link = f"{portal_url.rstrip('/')}/accounts/invitation/{token}/"
        transaction.on_commit(lambda: _send_invitation(invitation=invitation, link=link))
    return invitation


def invite_from_csv(*, data: bytes, default_role: str, invited_by, portal_url: str) -> InviteReport:
    """Invite everyone in a CSV (column ``email``, optional ``role``). Each row stands alone:
    the report lists who was invited and, for every other row, its line and the reason."""
    if len(data) > MAX_CSV_BYTES:
        raise InvitationError("The file is larger than 1 MB; split it into smaller files.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvitationError(
            f"The file is not UTF-8 text (byte {exc.start} cannot be read); save it as CSV UTF-8."
        ) from exc
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "email" not in headers:
        raise InvitationError("The first line must name the columns, with at least 'email'.")
    reader.fieldnames = headers
    rows = list(reader)
    if len(rows) > MAX_CSV_ROWS:
        raise InvitationError(f"The file has more than {MAX_CSV_ROWS} rows; split it.")
    report = InviteReport()
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        line = index + 2
        email = (row.get("email") or "").strip().lower()
        role = (row.get("role") or "").strip() or default_role
        if email in seen:
            report.rejected.append((line, email, f"duplicate of line {seen[email]}"))
            continue
        seen[email] = line
        try:
            invite_user(email=email, role=role, invited_by=invited_by, portal_url=portal_url)
        except InvitationError as exc:
            report.rejected.append((line, email, str(exc)))
        else:
            report.sent.append(email)
    return report


def _send_invitation(*, invitation: Invitation, link: str) -> None:
    from tenants.selectors import current_tenant
    from themes.email import send_branded_mail

    name = current_tenant().name
    send_branded_mail(
        subject=f"You are invited to {name}",
        portal_name=name,
        paragraphs=[
            f"You have been invited to join {name} as {ROLES[invitation.role].group[:-1].lower()}.",
            "Create your account with the link below within 14 days.",
        ],
        action_url=link,
        action_label="Accept the invitation",
        to=[invitation.email],
    )


def find_usable_invitation(token: str) -> Invitation | None:
    invitation = Invitation.objects.filter(token_hash=hash_token(token or "")).first()
    return invitation if invitation is not None and invitation.is_usable else None


def accept_invitation(*, invitation: Invitation, user) -> None:
    from tenants.access.permissions import assign_role

    with transaction.atomic():
        assign_role(user=user, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.accepted_user = user
        invitation.save(update_fields=["accepted_at", "accepted_user"])


# --- sessions ----------------------------------------------------------------------------------


def end_all_sessions(*, user, keep_session_key: str | None = None) -> int:
    """End every session of ``user`` (except ``keep_session_key``); returns how many."""
    from allauth.usersessions.models import UserSession

    keys = set(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    # Sessions that allauth does not track (e.g. started before tracking) are found by owner.
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            keys.add(session.session_key)
    keys.discard(keep_session_key)
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user, session_key__in=keys).delete()
    return len(keys)


def disable_user(*, user, by=None, request=None) -> None:
    """Disable an account; the receiver on ``is_active`` ends its sessions and audits it."""
    user.is_active = False
    user.save(update_fields=["is_active"])
