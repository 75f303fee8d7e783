"""Read-only portals: a past-due tenant after its grace period, or a canceled/unpaid one.

Add ``billing.middleware.ReadOnlyPortalMiddleware`` to ``MIDDLEWARE`` after the
authentication middleware. Reads are never touched; a write (any method but GET, HEAD,
OPTIONS) on a portal host is answered with a page that says why and what still works —
except signing in and out, the personal-data download and erasure requests under
``/accounts/``, the billing page where the admin pays, and attempts already under way
(``/exam/attempt/``: a candidate mid-exam answers and submits; starting one is refused).
One query, and only for writes; the row read is kept on the request for the page's own
notices (``selectors.subscription_for``).
Candidates' pages say so before anyone presses a button (``{% read_only_notice %}``).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django_tenants.utils import get_public_schema_name

from billing.selectors import read_only_for_request

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
ALLOWED_PATHS = ("/accounts/", "/cms/billing/", "/cms/login/", "/i18n/", "/exam/attempt/")


class ReadOnlyPortalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if (
            request.method not in SAFE_METHODS
            and tenant is not None
            and tenant.schema_name != get_public_schema_name()
            and not request.path.startswith(
                tuple(getattr(settings, "VIVA_READ_ONLY_ALLOWED_PATHS", ALLOWED_PATHS))
            )
            and read_only_for_request(request)
        ):
            body = render_to_string("billing/read_only.html", request=request)
            return HttpResponse(body, status=403)
        return self.get_response(request)
