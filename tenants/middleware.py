"""Selects the tenant from the request's host; refuses hosts that are not a live portal."""

from __future__ import annotations

from django.db import DatabaseError
from django.http import HttpResponse, JsonResponse
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name

from tenants.models import Tenant


class TenantRoutingMiddleware(TenantMainMiddleware):
    """django-tenants routing with three additions.

    - Only the platform and portals are routable: a template or spare schema never is, even if
      a domain row pointed at it.
    - A suspended portal answers 503 with a plain message instead of serving anything.
    - ``/healthz`` answers 503 JSON when the database cannot be reached, rather than a 500.
    """

    def get_tenant(self, domain_model, hostname):
        tenant = super().get_tenant(domain_model, hostname)
        if tenant.schema_name != get_public_schema_name() and not tenant.is_portal:
            raise domain_model.DoesNotExist
        return tenant

    def process_request(self, request):
        try:
            response = super().process_request(request)
        except DatabaseError:
            if request.path == "/healthz":
                return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
            raise
        if response is None and getattr(request, "tenant", None) is not None:
            if request.tenant.status == Tenant.Status.SUSPENDED and request.path != "/healthz":
                return HttpResponse(
                    "This portal is suspended. Please contact its administrator.",
                    status=503,
                    content_type="text/plain; charset=utf-8",
                )
        return response
