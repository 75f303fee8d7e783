"""allauth's hooks for Viva: each portal's sign-up policy, invitations and seats.

A person who signs up on their own (open or domain sign-up) becomes a candidate and takes one
of the portal's billing seats; an invited person takes the seat their invitation held. When no
seat is left, sign-up is refused on the form and no account is made.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from django import forms
from django.contrib import messages
from django.db import connection, transaction
from django.shortcuts import redirect
from django_tenants.utils import get_public_schema_name

INVITATION_SESSION_KEY = "viva_invitation_id"


def _policy():
    from tenants.access.models import AccessPolicy

    return AccessPolicy.load()


def _seat_left() -> bool:
    from billing import entitlements
    from tenants.selectors import current_tenant

    return entitlements.check(current_tenant(), entitlements.SEATS).allowed


def _session_invitation(request):
    from tenants.access.models import Invitation

    invitation_id = request.session.get(INVITATION_SESSION_KEY) if request else None
    if not invitation_id:
        return None
    invitation = Invitation.objects.filter(pk=invitation_id).first()
    return invitation if invitation is not None and invitation.is_usable else None


class AccountAdapter(DefaultAccountAdapter):
    def _on_platform(self) -> bool:
        return connection.schema_name == get_public_schema_name()

    def is_open_for_signup(self, request) -> bool:
        if self._on_platform():
            return False  # platform staff are created by platform staff
        if _session_invitation(request) is not None:
            return True
        return _policy().signup_policy != "invite_only"

    def clean_email(self, email: str) -> str:
        email = super().clean_email(email)
        if self._on_platform():
            return email
        invitation = _session_invitation(self.request)
        if invitation is not None:
            if email.lower() != invitation.email:
                raise forms.ValidationError(
                    f"This invitation is for {invitation.email}; sign up with that address."
                )
            return email
        policy = _policy()
        if policy.signup_policy == "domains":
            domain = email.rsplit("@", 1)[-1].lower()
            if domain not in policy.domains:
                allowed = ", ".join(policy.domains)
                raise forms.ValidationError(
                    f"Sign-up on this portal is limited to addresses at {allowed}."
                )
        if not _seat_left():
            from tenants.access.services import NO_FREE_PLACES

            raise forms.ValidationError(NO_FREE_PLACES)
        return email

    def is_email_verified(self, request, email: str) -> bool:
        """An accepted invitation proves the address: the link was sent to it."""
        accepted = getattr(request, "_viva_invited_email", None)
        invitation = _session_invitation(request)
        invited = accepted or (invitation.email if invitation is not None else None)
        return invited is not None and invited == (email or "").lower()

    def save_user(self, request, user, form, commit=True):
        """The account and its seat in one transaction: when the last seat went between the
        form's check and now, nothing is kept and the person is sent back to the form."""
        if not commit or self._on_platform():
            return super().save_user(request, user, form, commit=commit)
        from tenants.access.services import InvitationError, RoleError

        try:
            with transaction.atomic():
                user = super().save_user(request, user, form, commit=True)
                invitation = self._join(request, user)
        except (InvitationError, RoleError) as exc:
            messages.error(request, str(exc))
            raise ImmediateHttpResponse(redirect("account_signup")) from exc
        if invitation is not None:
            request.session.pop(INVITATION_SESSION_KEY, None)
            request._viva_invited_email = invitation.email
        return user

    def _join(self, request, user):
        """Accept the session's invitation for ``user`` (returned), or make them a candidate."""
        from tenants.access import services

        invitation = _session_invitation(request)
        if invitation is not None and invitation.email == user.email.lower():
            services.accept_invitation(invitation=invitation, user=user)
            return invitation
        services.join_as_candidate(user=user)
        return None
