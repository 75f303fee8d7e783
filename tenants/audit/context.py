"""The request being served, for audit receivers whose signal does not carry it.

``m2m_changed`` (a role granted or revoked) says which user and group changed but not who made
the change. ``AuditRequestMiddleware`` keeps the current request in a context variable so that
such receivers can name the acting user and their IP. Without the middleware, those entries
are recorded with no actor.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse

_current_request: ContextVar[HttpRequest | None] = ContextVar("audit_request", default=None)


def current_request() -> HttpRequest | None:
    """The request this thread or task is serving, if the middleware is installed."""
    return _current_request.get()


class AuditRequestMiddleware:
    """Make the request available to audit receivers for the duration of the response."""

    sync_capable = True
    async_capable = False

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)
