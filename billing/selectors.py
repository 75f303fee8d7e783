"""Reads of billing for pages: what a tenant admin sees on its billing page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

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
    banner: Banner | None


def banner_for(tenant: Tenant, *, now: datetime | None = None) -> Banner | None:
    """What every admin page of the tenant should say about its subscription, if anything."""
    subscription = entitlements.subscription_of(tenant)
    if subscription is None:
        return None
    now = now or timezone.now()
    status = subscription.status
    if status == Subscription.Status.PAST_DUE:
        if entitlements.is_read_only(tenant, now=now):
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
        banner=banner_for(tenant),
    )
