"""Writes of the access app: invitations, roles, ending sessions, disabling accounts.

Seats: every active account with the candidate role holds one billing seat (staff roles do
not), and an invitation in the candidate role holds one from the moment it is sent. So the
functions here that make or unmake a candidate take or give back the seat in the same
transaction, and refuse with the plan's message when none is left; nothing else changes then.
Disabling and erasing an account give the seat back in ``receivers``.
"""

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

from billing import services as billing
from billing.models import SeatAssignment
from tenants.access.models import INVITATION_LIFETIME, Invitation, hash_token
from tenants.access.permissions import assign_role, remove_role
from tenants.access.roles import ROLES
from tenants.selectors import current_tenant

MAX_CSV_BYTES = 1024 * 1024
MAX_CSV_ROWS = 2000
CANDIDATE = "candidate"
NO_FREE_PLACES = "This portal has no free places left; ask its administrators."


class InvitationError(Exception):
    """An invitation was refused; the message says why. Nothing changed."""


class RoleError(Exception):
    """A role change (or enabling an account) was refused; the message says why. Nothing
    changed."""


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
    """Invite one person; the branded email with their link is sent after commit. A
    candidate's invitation holds a seat until it expires (refused when none is left)."""
    email = _check_invitee(email, role)
    token = secrets.token_urlsafe(32)
    expires_at = timezone.now() + INVITATION_LIFETIME
    with transaction.atomic():
        if role == CANDIDATE:
            _hold_seat(email=email, expires_at=expires_at)
        Invitation.objects.filter(email=email, accepted_at__isnull=True).delete()  # expired
        try:
            invitation = Invitation.objects.create(
                email=email,
                role=role,
                token_hash=hash_token(token),
                invited_by=invited_by,
                expires_at=expires_at,
            )
        except IntegrityError as exc:
            raise InvitationError(f"{email} already has a pending invitation.") from exc
        link = f"{portal_url.rstrip('/')}/accounts/invitation/{token}/"
        transaction.on_commit(lambda: _send_invitation(invitation=invitation, link=link))
    return invitation


def _hold_seat(*, email: str, expires_at) -> None:
    try:
        billing.hold_seat(tenant=current_tenant(), email=email, expires_at=expires_at)
    except billing.BillingError as exc:
        raise InvitationError(str(exc)) from exc


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
    """``user`` signed up with ``invitation``: they get its role, and a candidate's seat hold
    becomes their seat (``InvitationError`` if the hold lapsed and no seat is left)."""
    with transaction.atomic():
        if invitation.role == CANDIDATE:
            try:
                billing.assign_seat(
                    tenant=current_tenant(),
                    user_id=user.pk,
                    email=invitation.email,
                    source=SeatAssignment.Source.INVITATION,
                )
            except billing.BillingError as exc:
                raise InvitationError(str(exc)) from exc
        assign_role(user=user, role=invitation.role)
        invitation.accepted_at = timezone.now()
        invitation.accepted_user = user
        invitation.save(update_fields=["accepted_at", "accepted_user"])


def revoke_invitation(*, invitation: Invitation) -> None:
    """Withdraw a pending invitation: its link stops working and its seat hold is given back."""
    if invitation.accepted_at is not None:
        raise InvitationError(f"{invitation.email} has accepted the invitation already.")
    with transaction.atomic():
        if invitation.role == CANDIDATE:
            billing.release_seat_hold(tenant=current_tenant(), email=invitation.email)
        invitation.delete()


# --- roles and seats ---------------------------------------------------------------------------


def _is_candidate(user) -> bool:
    """Holds the candidate role, whether or not the account is active (``has_role`` says no
    for inactive accounts, which is not what enabling one needs to know)."""
    return user.groups.filter(name=ROLES[CANDIDATE].group).exists()


def _take_seat(*, user, source: str, when_full: str = "") -> None:
    """A seat for ``user`` or ``RoleError``. The plan's message speaks to admins (upgrade);
    ``when_full`` replaces it for people who cannot upgrade anything."""
    try:
        billing.assign_seat(
            tenant=current_tenant(), user_id=user.pk, email=user.email, source=source
        )
    except billing.SeatLimitReached as exc:
        raise RoleError(when_full or str(exc)) from exc
    except billing.BillingError as exc:
        raise RoleError(str(exc)) from exc


def grant_role(*, user, role: str, source: str = SeatAssignment.Source.ROLE) -> None:
    """Give ``user`` a role. The candidate role of an active account takes a seat, or is
    refused with the plan's message (``RoleError``) and nothing changes."""
    if role not in ROLES:
        raise RoleError(f"'{role}' is not a role here ({', '.join(ROLES)}).")
    with transaction.atomic():
        if role == CANDIDATE and user.is_active:
            _take_seat(user=user, source=source)
        assign_role(user=user, role=role)


def revoke_role(*, user, role: str) -> None:
    """Take a role from ``user``; without the candidate role they no longer hold a seat."""
    if role not in ROLES:
        raise RoleError(f"'{role}' is not a role here ({', '.join(ROLES)}).")
    with transaction.atomic():
        remove_role(user=user, role=role)
        if role == CANDIDATE:
            billing.release_seat(tenant=current_tenant(), user_id=user.pk)


def join_as_candidate(*, user) -> None:
    """Open sign-up: a person who signs up on their own is a candidate and takes a seat
    (``RoleError`` with ``NO_FREE_PLACES`` when none is left)."""
    with transaction.atomic():
        _take_seat(user=user, source=SeatAssignment.Source.SIGNUP, when_full=NO_FREE_PLACES)
        assign_role(user=user, role=CANDIDATE)


def release_candidate_seat(*, seat_id: int) -> SeatAssignment | None:
    """The seat page's "Release seat", for a seat of the current portal. A person loses the
    candidate role with it (audited as ``role.revoked`` by the audit receivers); a hold goes
    with its pending invitation. None when ``seat_id`` is no counted seat of this portal
    (another portal's id included): nothing changes then."""
    tenant = current_tenant()
    seat = SeatAssignment.objects.counted(tenant.pk).filter(pk=seat_id).first()
    if seat is None:
        return None
    if seat.is_hold:
        invitation = Invitation.objects.filter(email=seat.email, accepted_at__isnull=True).first()
        if invitation is not None:
            revoke_invitation(invitation=invitation)
        else:
            billing.release_seat_hold(tenant=tenant, email=seat.email)
        return seat
    person = get_user_model().objects.filter(pk=seat.user_id).first()
    if person is not None:
        revoke_role(user=person, role=CANDIDATE)
    else:
        billing.release_seat(tenant=tenant, user_id=seat.user_id)
    return seat


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
    """Disable an account; the receiver on ``is_active`` ends its sessions, gives its seat
    back and audits it."""
    user.is_active = False
    user.save(update_fields=["is_active"])


def enable_user(*, user) -> None:
    """Enable an account again. A candidate needs a free seat again (``RoleError`` with the
    plan's message otherwise, and the account stays disabled)."""
    with transaction.atomic():
        if _is_candidate(user):
            _take_seat(user=user, source=SeatAssignment.Source.ROLE)
        user.is_active = True
        user.save(update_fields=["is_active"])
