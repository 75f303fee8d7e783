"""Selects the tenant from the request's host; refuses hosts that are not a live portal."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.middleware import csp
from django_tenants.middleware.main import TenantMainMiddleware
from django_tenants.utils import get_public_schema_name
from wagtail.contrib.redirects.middleware import RedirectMiddleware

from tenants.models import Tenant


class TenantRoutingMiddleware(TenantMainMiddleware):
    """django-tenants routing with three additions.

    - Only the platform and portals are routable: a template or spare schema never is, even if
      a domain row pointed at it.
    - A suspended portal answers 503 with a plain message instead of serving anything.
    - ``/healthz`` answers 503 JSON when the database cannot be reached, rather than a 500.
    """

    def get_tenant(self, domain_model, hostname):
        domain = domain_model.objects.select_related("tenant").get(domain=hostname)
        tenant = domain.tenant
        if tenant.schema_name != get_public_schema_name() and not tenant.is_portal:
            raise domain_model.DoesNotExist
        tenant.routed_domain = domain  # a fresh instance per request: safe to annotate
        return tenant

    def process_request(self, request):
        try:
            response = super().process_request(request)
        except DatabaseError:
            if request.path == "/healthz":
                return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
            raise
        tenant = getattr(request, "tenant", None)
        suspended = tenant is not None and tenant.status == Tenant.Status.SUSPENDED
        if response is None and suspended and request.path != "/healthz":
            return HttpResponse(
                "This portal is suspended. Please contact its administrator.",
                status=503,
                content_type="text/plain; charset=utf-8",
            )
        if response is None and suspended is False and tenant is not None:
            return self._redirect_to_primary(request, tenant)
        return response

    @staticmethod
    def _redirect_to_primary(request, tenant):
        """A portal's non-primary hosts answer GETs with a permanent redirect to the primary."""
        domain = getattr(tenant, "routed_domain", None)
        if domain is None or domain.is_primary or request.method not in ("GET", "HEAD"):
            return None
        if request.path == "/healthz" or tenant.schema_name == get_public_schema_name():
            return None
        primary = tenant.domains.filter(is_primary=True).values_list("domain", flat=True).first()
        if primary is None:
            return None
        port = request.get_port()
        netloc = primary if port in ("80", "443") else f"{primary}:{port}"
        scheme = "https" if request.is_secure() else "http"
        return HttpResponsePermanentRedirect(f"{scheme}://{netloc}{request.get_full_path()}")


#: Stripe's hosted pages: Checkout, the customer portal, Connect onboarding. A billing or
#: marketplace form is answered with a redirect there, and ``form-action`` governs redirects.
STRIPE_HOSTED_PAGES = (
    "https://checkout.stripe.com",
    "https://billing.stripe.com",
    "https://connect.stripe.com",
)
#: allauth's "Continue to your identity provider" pages (the provider kinds of
#: ``tenants.sso.models.ProviderKind``); the provider is each portal's own.
SSO_LOGIN_PATH = re.compile(r"^/accounts/(?:google|github|oidc/[^/]+|saml/[^/]+)/login/$")
#: The local Stripe double's hosted pages (development only) send people back to any portal.
STRIPE_DOUBLE_PATH = "/_stripe/"


def form_action_sources(path: str) -> list[str]:
    """Where a form on ``path`` may send the browser: this site, Stripe's hosted pages (or the
    local Stripe double standing in for them), and on SSO hand-off pages the identity
    provider (any https origin, http too in development: each portal configures its own)."""
    sources = [csp.CSP.SELF, *STRIPE_HOSTED_PAGES]
    if not settings.STRIPE_SECRET_KEY:
        double = urlsplit(settings.VIVA_STRIPE_DOUBLE_URL)
        sources.append(f"{double.scheme}://{double.netloc}")
    if SSO_LOGIN_PATH.match(path):
        # In development an identity provider may run on plain http (a local Keycloak).
        sources += ["https:", "http:"] if settings.DEBUG else ["https:"]
    if path.startswith(STRIPE_DOUBLE_PATH):
        sources += ["http:", "https:"]
    return sources


class ContentSecurityPolicyMiddleware(csp.ContentSecurityPolicyMiddleware):
    """Django's CSP, with the looser policy ``SECURE_CSP_ADMIN`` for the admin areas and the
    form targets of ``form_action_sources``.

    Wagtail's and Django's admin pages carry a few inline scripts without nonces; the portal
    pages people use (and the exam player) keep the strict nonce-based policy.
    """

    ADMIN_PREFIXES = ("/cms/", "/admin/")

    def process_response(self, request, response):
        if not hasattr(response, "_csp_config"):
            admin = request.path.startswith(self.ADMIN_PREFIXES)
            policy = settings.SECURE_CSP_ADMIN if admin else settings.SECURE_CSP
            response._csp_config = {**policy, "form-action": form_action_sources(request.path)}
        return super().process_response(request, response)


class PortalRedirectMiddleware(RedirectMiddleware):
    """Wagtail's redirects (a 404 looked up in the portal's redirect table), on portal hosts
    only: the platform site has no Wagtail tables, so there it leaves the 404 alone."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if connection.schema_name == get_public_schema_name():
            return response
        return super().process_response(request, response)
