"""The REST API of a portal, under /api/v1/ on the portal's host (OpenAPI at /api/v1/docs).

Authentication is a tenant API key as a bearer token. Failed authentications are counted per
client address in the tenant-keyed cache; past ``API_AUTH_FAILURES_ALLOWED`` in
``API_AUTH_WINDOW`` seconds the address gets 429 even with a right key, so keys cannot be
guessed. The client address comes from allauth's proxy-aware helper: a forged
``X-Forwarded-For`` does not reset the count. A right key of a portal whose plan does not
include API access gets 403 with the upgrade message (``billing.entitlements.API_ACCESS``).
"""

from __future__ import annotations

from allauth.core.internal.httpkit import get_client_ip
from django.core.cache import cache
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError
from ninja.security import HttpBearer

API_AUTH_FAILURES_ALLOWED = 10
API_AUTH_WINDOW = 300


def _failure_key(request) -> str:
    return f"api:auth-failures:{get_client_ip(request) or 'unknown'}"


class ApiKeyAuth(HttpBearer):
    def __call__(self, request):
        if (cache.get(_failure_key(request)) or 0) >= API_AUTH_FAILURES_ALLOWED:
            raise HttpError(429, "Too many failed authentications; try again later.")
        key = super().__call__(request)
        if key is None:
            failure_key = _failure_key(request)
            cache.add(failure_key, 0, API_AUTH_WINDOW)
            cache.incr(failure_key)
        return key

    def authenticate(self, request, token):
        from billing.entitlements import API_ACCESS
        from billing.selectors import feature_for
        from tenants.access.api_keys import authenticate

        key = authenticate(token)
        if key is not None:
            # Only a holder of a right key learns the plan; a wrong key is a plain 401.
            allowance = feature_for(request, API_ACCESS)
            if not allowance.allowed:
                raise HttpError(403, allowance.message)
        return key


api = NinjaAPI(title="Viva portal API", version="1", auth=ApiKeyAuth(), urls_namespace="api-v1")


def require_scope(request, scope: str) -> None:
    if scope not in request.auth.scopes:
        raise HttpError(403, f"This key lacks the '{scope}' scope.")


class MeOut(Schema):
    portal: str
    key: str
    scopes: list[str]


class QuestionOut(Schema):
    id: int
    title: str
    type: str
    status: str
    version: int


@api.get("/me", response=MeOut)
def me(request):
    from tenants.selectors import current_tenant

    return {
        "portal": current_tenant().name,
        "key": request.auth.name,
        "scopes": request.auth.scopes,
    }


@api.get("/questions", response=list[QuestionOut])
def questions(request, status: str | None = None, limit: int = 100):
    from assessments.selectors import search_questions

    require_scope(request, "questions:read")
    found = search_questions(status=status)
    return list(found.order_by("id")[: max(1, min(limit, 500))])
