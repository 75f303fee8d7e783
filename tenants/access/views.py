"""Portal pages of the access app: accepting an invitation."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render

from tenants.access.services import find_usable_invitation
from tenants.accounts.adapter import INVITATION_SESSION_KEY


def accept_invitation_link(request, token: str):
    invitation = find_usable_invitation(token)
    if invitation is None:
        return render(request, "access/invitation_invalid.html", status=404)
    request.session[INVITATION_SESSION_KEY] = invitation.pk
    messages.info(request, f"Create your account with {invitation.email} to accept the invitation.")
    return redirect("account_signup")
