"""Reads of billing for pages: the tenant admin's billing page, and the subscription banner
and entitlements that every page of a portal may show (read once per request)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.http import HttpRequest
from django.utils import timezone
from django_tenants.utils import get_public_schema_name

from billing import entitlements, gateway
from billing.models import Plan, Subscription, UsageRecord
from tenants.models import Tenant


@dataclass(frozen=True)
class Banner:
    level: str  # "warning" or "critical"
    text: str


@dataclass(frozen=True)
class BillingPage:
    plan: Plan
    subscription: Subscription | None
    seats: entitlements.Entitlement
    ai_credits: entitlements.Entitlement
    exams: entitlements.Entitlement
    features: list[tuple[str, bool]]
    plans: list[Plan]
    invoices: list[gateway.Invoice]
    invoices_error: str
    recent_usage: list[UsageRecord]
    overage_units: int
    read_only: bool


def banner_for(tenant: Tenant, *, now: datetime | None = None) -> Banner | None:
    """What every admin page of the tenant should say about its subscription, if anything."""
    return _banner(entitlements.subscription_of(tenant), now or timezone.now())


def _banner(subscription: Subscription | None, now: datetime) -> Banner | None:
    if subscription is None:
        return None
    status = subscription.status
    if status == Subscription.Status.PAST_DUE:
        if entitlements.subscription_is_read_only(subscription, now=now):
            return Banner(
                "critical",
                "Payment is overdue and the grace period has ended: the portal is read-only. "
                "Update your card under Settings → Billing to restore it.",
            )
        until = subscription.grace_until.strftime("%d %b %Y") if subscription.grace_until else ""
        return Banner(
            "warning",
            f"The last payment failed. Update your card under Settings → Billing before "
            f"{until} or the portal becomes read-only.",
        )
    if status in {Subscription.Status.CANCELED, Subscription.Status.UNPAID}:
        return Banner(
            "critical",
            "The subscription has ended: the portal is read-only (people can still sign in "
            "and download their data). Choose a plan under Settings → Billing to reactivate.",
        )
    return None


# --- per request ------------------------------------------------------------------------------
# A page may ask several times (the admin banner, the candidate notice, the SSO buttons): the
# subscription row is read once per request and kept on the request, never beyond it, so a
# change of plan or status shows on the next page.

_REQUEST_ATTRIBUTE = "_viva_subscription"


def subscription_for(request: HttpRequest) -> Subscription | None:
    """The subscription of the request's portal (None on Free and on the platform host)."""
    if not hasattr(request, _REQUEST_ATTRIBUTE):
        tenant = getattr(request, "tenant", None)
        on_portal = tenant is not None and tenant.schema_name != get_public_schema_name()
        subscription = entitlements.subscription_of(tenant) if on_portal else None
        setattr(request, _REQUEST_ATTRIBUTE, subscription)
    return getattr(request, _REQUEST_ATTRIBUTE)


def feature_for(request: HttpRequest, name: str) -> entitlements.Entitlement:
    """``entitlements.check`` of a feature for the request's portal, from the row read once."""
    return entitlements.feature_of(subscription_for(request), name)


def banner_for_request(request: HttpRequest) -> Banner | None:
    """The subscription banner of the request's portal (see ``banner_for``)."""
    return _banner(subscription_for(request), timezone.now())


def read_only_for_request(request: HttpRequest) -> bool:
    """Is the request's portal read-only (see ``entitlements.is_read_only``)?"""
    return entitlements.subscription_is_read_only(subscription_for(request))


def billing_page(*, tenant: Tenant) -> BillingPage:
    subscription = entitlements.subscription_of(tenant)
    plan = entitlements.plan_of(tenant)
    invoices: list[gateway.Invoice] = []
    invoices_error = ""
    if subscription is not None and subscription.stripe_customer_id:
        try:
            invoices = gateway.list_invoices(customer_id=subscription.stripe_customer_id)
        except gateway.GatewayError as exc:
            invoices_error = f"Invoices could not be loaded: {exc}"
    month = entitlements.month_start()
    usage = UsageRecord.objects.filter(tenant_id=tenant.pk, occurred_at__gte=month)
    included = entitlements.features_of(tenant)
    features = [
        (entitlements.FEATURE_LABELS[name], name in included) for name in entitlements.FEATURES
    ]
    return BillingPage(
        plan=plan,
        subscription=subscription,
        seats=entitlements.check(tenant, entitlements.SEATS),
        ai_credits=entitlements.check(tenant, entitlements.AI_CREDITS),
        exams=entitlements.check(tenant, entitlements.EXAMS),
        features=features,
        plans=list(Plan.objects.all()),
        invoices=invoices,
        invoices_error=invoices_error,
        recent_usage=list(usage.order_by("-occurred_at")[:10]),
        overage_units=sum(r.overage_units for r in usage.only("overage_units")),
        read_only=entitlements.is_read_only(tenant),
    )
