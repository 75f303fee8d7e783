"""Metering: every AI call is recorded in the tenant's schema and counted against its plan.

``call(feature, fn, ...)`` is how features run a provider method: it refuses to run outside
a tenant schema, refuses when the plan's AI credits are used up, times the call, stores an
``AICall`` row for success or ``ProviderError`` alike, and counts the units through
``billing.services.record_usage`` (the one place that knows plans and Stripe).

    result = metering.call("grading", provider.grade, request, user=request.user)
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any

from django.db import connection

from .base import ProviderError, Usage
from .models import AICall

logger = logging.getLogger(__name__)

#: The billing limit AI calls count against (``billing.entitlements.AI_CREDITS``).
AI_CREDITS = "ai_credits"


class OutsideTenantError(RuntimeError):
    """An AI call was attempted outside a tenant's schema (a programming error)."""


def require_tenant_schema() -> str:
    """The current tenant schema; raises when the connection is on the public schema, so no
    AI call (and no record of one) is ever made without a tenant to charge and store it in."""
    schema = getattr(connection, "schema_name", "public")
    if not schema or schema == "public":
        raise OutsideTenantError("AI calls run only inside a tenant's schema, not 'public'.")
    return schema


def record(
    feature: str, usage: Usage, *, user: Any = None, error: str = "", count: bool = True
) -> AICall:
    """Store one call for the current tenant and, when it succeeded, count its units against
    the plan's AI credits (failed calls cost nothing)."""
    require_tenant_schema()
    ok = not error
    call = AICall.objects.create(
        feature=feature[:40],
        provider=usage.provider[:20],
        model=usage.model[:80],
        prompt_version=usage.prompt_version[:80],
        input_tokens=max(usage.input_tokens, 0),
        output_tokens=max(usage.output_tokens, 0),
        units=max(usage.units, 0) if ok else 0,
        cost_usd=usage.cost_usd,
        latency_ms=max(usage.latency_ms, 0),
        ok=ok,
        error=error,
        user=user if getattr(user, "pk", None) else None,
    )
    if ok and count and call.units:
        _count_credits(call.units)
    return call


def check_credits(units: int = 1) -> None:
    """Raise ``ProviderError`` when the tenant's plan has no AI credits left for ``units``."""
    require_tenant_schema()
    from billing import entitlements

    tenant = _current_tenant()
    if tenant is None:
        return
    answer = entitlements.check(tenant, AI_CREDITS, requested=units)
    if not answer.allowed:
        raise ProviderError(answer.message or "No AI credits left on this plan.")


def call[T](feature: str, fn: Callable[..., T], *args: Any, user: Any = None, **kwargs: Any) -> T:
    """Run ``fn(*args, **kwargs)`` (a provider method) for the current tenant and record it.

    The result's ``usage`` gets the measured latency. A ``ProviderError`` (including "no
    credits left") is recorded with its reason and raised again for the caller to show.
    """
    require_tenant_schema()
    started = time.perf_counter()
    try:
        check_credits()
        result = fn(*args, **kwargs)
    except ProviderError as exc:
        latency = _elapsed_ms(started)
        usage = Usage(
            provider=_provider_name(fn), model="", prompt_version="", units=0, latency_ms=latency
        )
        record(feature, usage, user=user, error=exc.reason or "The AI provider failed.")
        raise
    latency = _elapsed_ms(started)
    usage = getattr(result, "usage", None)
    if usage is None:
        usage = Usage(provider=_provider_name(fn), model="", prompt_version="")
    usage = dataclasses.replace(usage, latency_ms=usage.latency_ms or latency)
    if dataclasses.is_dataclass(result) and hasattr(result, "usage"):
        result = dataclasses.replace(result, usage=usage)  # type: ignore[type-var]
    record(feature, usage, user=user)
    return result


def _elapsed_ms(started: float) -> int:
    return int(round((time.perf_counter() - started) * 1000))


def _provider_name(fn: Callable[..., Any]) -> str:
    owner = getattr(fn, "__self__", None)
    return str(getattr(owner, "name", "") or "unknown")


def _current_tenant():
    from django.apps import apps

    tenant = getattr(connection, "tenant", None)
    if tenant is not None and getattr(tenant, "pk", None):
        return tenant
    if not apps.is_installed("tenants"):
        return None
    from tenants.models import Tenant

    return Tenant.objects.filter(schema_name=connection.schema_name).first()


def _count_credits(units: int) -> None:
    """Count ``units`` through ``billing.services.record_usage``.
    A refusal there (the credits ran out between the check and the call) is logged: the work
    is done and recorded, and the next call is refused by ``check_credits``."""
    from billing import services

    tenant = _current_tenant()
    if tenant is None:
        return
    try:
        services.record_usage(tenant=tenant, feature=AI_CREDITS, units=units)
    except services.BillingError as exc:
        logger.warning("AI credits not counted for %s: %s", tenant.schema_name, exc)
