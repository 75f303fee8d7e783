"""Per-tenant network and MFA rules for the admin areas."""

from __future__ import annotations

import ipaddress

from allauth.core.internal.httpkit import get_client_ip
from django.contrib import messages
from django.db import connection
from django.http import HttpResponseForbidden
from django.shortcuts import redirect
from django_tenants.utils import get_public_schema_name

# Paths a staff member without MFA may still use: to set it up, sign out, load assets.
MFA_SETUP_PATHS = ("/accounts/", "/static/", "/media/", "/healthz", "/i18n/", "/theme.css")


class AccessPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if connection.schema_name == get_public_schema_name():
            return self.get_response(request)
        admin_area = request.path.startswith("/cms/")
        user = getattr(request, "user", None)
        signed_in = user is not None and user.is_authenticated
        if admin_area or signed_in:
            from tenants.access.models import AccessPolicy

            policy = AccessPolicy.load(request_or_site=request)
            if admin_area and not self._network_allowed(request, policy):
                return HttpResponseForbidden(
                    "Your network address is not allowed to use the admin of this portal.",
                    content_type="text/plain; charset=utf-8",
                )
            if signed_in and policy.mfa_required_for_staff and self._needs_mfa(request, user):
                messages.warning(
                    request,
                    "This portal requires two-factor authentication for staff. "
                    "Set it up to continue.",
                )
                return redirect("mfa_index")
        return self.get_response(request)

    @staticmethod
    def _network_allowed(request, policy) -> bool:
        networks = policy.networks
        if not networks:
            return True
        try:
            client = ipaddress.ip_address(get_client_ip(request) or "")
        except ValueError:
            return False
        return any(client in network for network in networks)

    @staticmethod
    def _needs_mfa(request, user) -> bool:
        if request.path.startswith(MFA_SETUP_PATHS):
            return False
        from allauth.mfa.utils import is_mfa_enabled

        from tenants.access.permissions import is_staff_member

        return is_staff_member(user) and not is_mfa_enabled(user)
