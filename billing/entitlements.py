"""The one place that answers "may tenant T do X, and how much is left".

``check(tenant, name)`` covers both kinds of entitlement: a *feature* (custom domain, SSO...)
is allowed or not by the tenant's plan; a *limit* (seats, AI credits this month, exams) has a
limit, a use and a remainder. A denied answer carries a message that says what to upgrade, for
the feature boundary to show instead of an error page. ``has_feature`` is the short form the
branding and domain code already call.

A tenant without a ``Subscription`` row is on the Free plan, whose features are
``DEFAULT_PLAN_FEATURES`` (the seed migration gives the Free row the same list).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Sum
from django.utils import timezone

from tenants.models import Tenant

# Features (a plan has them or not).
CUSTOM_DOMAIN = "custom_domain"
REMOVE_PLATFORM_BRANDING = "remove_platform_branding"
SSO = "sso"
API_ACCESS = "api_access"
WEBCAM_PROCTORING = "webcam_proctoring"
MARKETPLACE_SELLING = "marketplace_selling"
FEATURES = (
    CUSTOM_DOMAIN,
    REMOVE_PLATFORM_BRANDING,
    SSO,
    API_ACCESS,
    WEBCAM_PROCTORING,
    MARKETPLACE_SELLING,
)
FEATURE_LABELS = {
    CUSTOM_DOMAIN: "Custom domains",
    REMOVE_PLATFORM_BRANDING: "Removing “Powered by Viva”",
    SSO: "Single sign-on",
    API_ACCESS: "API access",
    WEBCAM_PROCTORING: "Webcam proctoring",
    MARKETPLACE_SELLING: "Selling in the marketplace",
}

# Limits (a plan allows so many; None = unlimited).
SEATS = "seats"
AI_CREDITS = "ai_credits"
EXAMS = "exams"
LIMITS = (SEATS, AI_CREDITS, EXAMS)
LIMIT_LABELS = {SEATS: "active candidates", AI_CREDITS: "AI credits this month", EXAMS: "exams"}

FREE_PLAN = "free"
DEFAULT_PLAN_FEATURES = frozenset({CUSTOM_DOMAIN})

READ_ONLY_STATUSES = frozenset({"canceled", "unpaid"})


@dataclass(frozen=True)
class Entitlement:
    """The answer for one feature or limit. ``limit``/``remaining`` are None when unlimited
    (and for features)."""

    name: str
    allowed: bool
    plan: str
    limit: int | None = None
    used: int | None = None
    remaining: int | None = None
    message: str = ""
    # For AI credits on a paid plan: use beyond the limit is allowed and billed per unit.
    metered: bool = False


def subscription_of(tenant: Tenant):
    from billing.models import Subscription

    return Subscription.objects.select_related("plan").filter(tenant_id=tenant.pk).first()


def _free_plan():
    from billing.models import Plan

    return Plan.objects.get(code=FREE_PLAN)


def plan_of(tenant: Tenant):
    subscription = subscription_of(tenant)
    return subscription.plan if subscription else _free_plan()


def features_of(tenant: Tenant) -> frozenset[str]:
    """Every feature the tenant's plan includes."""
    subscription = subscription_of(tenant)
    return frozenset(subscription.plan.features) if subscription else DEFAULT_PLAN_FEATURES


def has_feature(tenant: Tenant, feature: str) -> bool:
    """May ``tenant`` use ``feature`` (one of ``FEATURES``)?"""
    return check(tenant, feature).allowed


def check(tenant: Tenant, name: str, *, requested: int = 1) -> Entitlement:
    """May ``tenant`` use feature ``name``, or take ``requested`` more units of limit ``name``?"""
    subscription = subscription_of(tenant)
    if name in FEATURES:
        return feature_of(subscription, name)
    if name not in LIMITS:
        raise ValueError(f"Unknown feature or limit: {name!r}")
    plan = subscription.plan if subscription else _free_plan()
    paid = subscription is not None and not plan.is_free
    if name == SEATS:
        limit = subscription.seats if paid else plan.seats
        used = seats_in_use(tenant)
    elif name == AI_CREDITS:
        limit = plan.ai_credits_per_month
        used = usage_this_month(tenant, AI_CREDITS)
    else:
        limit = plan.exams
        used = exams_in_use(tenant)
    if limit is None:
        return Entitlement(name=name, allowed=True, plan=plan.code, used=used)
    remaining = max(limit - used, 0)
    if name == AI_CREDITS and paid:
        return Entitlement(
            name=name,
            allowed=True,
            plan=plan.code,
            limit=limit,
            used=used,
            remaining=remaining,
            metered=True,
        )
    allowed = requested <= remaining
    message = "" if allowed else _limit_message(name, plan.name, limit, paid)
    return Entitlement(
        name=name,
        allowed=allowed,
        plan=plan.code,
        limit=limit,
        used=used,
        remaining=remaining,
        message=message,
    )


def feature_of(subscription, name: str) -> Entitlement:
    """The answer for feature ``name`` from a subscription row already read (None: Free).

    For pages that read the row once per request (``billing.selectors.subscription_for``)
    and ask about several features; everyone else calls ``check``.
    """
    if name not in FEATURES:
        raise ValueError(f"Unknown feature: {name!r}")
    if subscription is None:
        return _feature(name, FREE_PLAN, "Free", DEFAULT_PLAN_FEATURES)
    plan = subscription.plan
    return _feature(name, plan.code, plan.name, frozenset(plan.features))


def _feature(name: str, code: str, plan_name: str, features: frozenset[str]) -> Entitlement:
    if name in features:
        return Entitlement(name=name, allowed=True, plan=code)
    return Entitlement(
        name=name,
        allowed=False,
        plan=code,
        message=(
            f"{FEATURE_LABELS[name]} is not "
            f"included in the {plan_name} plan. Upgrade under Settings → Billing to use it."
        ),
    )


def _limit_message(name: str, plan_name: str, limit: int, paid: bool) -> str:
    what = LIMIT_LABELS[name]
    if name == SEATS and paid:
        return (
            f"All {limit} seats you bought are in use. Buy more seats or release a seat under "
            "Settings → Billing."
        )
    return (
        f"The {plan_name} plan allows {limit} {what}, and all are used. Upgrade under "
        "Settings → Billing for more."
    )


# --- usage -----------------------------------------------------------------------------------


def seats_in_use(tenant: Tenant) -> int:
    """Seats of people (active candidates) plus the holds of invitations not yet expired."""
    from billing.models import SeatAssignment

    return SeatAssignment.objects.counted(tenant.pk).count()


def month_start(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def usage_this_month(tenant: Tenant, feature: str) -> int:
    from billing.models import UsageRecord

    total = UsageRecord.objects.filter(
        tenant_id=tenant.pk, feature=feature, occurred_at__gte=month_start()
    ).aggregate(total=Sum("units"))["total"]
    return total or 0


def exams_in_use(tenant: Tenant) -> int:
    """Exams of the tenant that are not archived (read in the tenant's own schema)."""
    from django_tenants.utils import schema_context

    from assessments.exams.models import Exam

    with schema_context(tenant.schema_name):
        return Exam.objects.exclude(status=Exam.Status.ARCHIVED).count()


# --- subscription status ---------------------------------------------------------------------


def is_read_only(tenant: Tenant, *, now: datetime | None = None) -> bool:
    """Past due beyond the grace period, unpaid, or canceled: the portal is read-only (people
    can still sign in, read and download their data)."""
    return subscription_is_read_only(subscription_of(tenant), now=now)


def subscription_is_read_only(subscription, *, now: datetime | None = None) -> bool:
    """``is_read_only`` for a subscription row already read (None: Free, never read-only)."""
    if subscription is None:
        return False
    now = now or timezone.now()
    if subscription.status in READ_ONLY_STATUSES:
        return True
    if subscription.status == "past_due":
        return subscription.grace_until is not None and now >= subscription.grace_until
    return False
