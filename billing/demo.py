"""Demo billing, offline: ``acme`` on Starter (10 seats), ``uni`` on Pro with invoices.

Runs against the local Stripe double only (a real key would need a card); idempotent: a
portal that already has a subscription is left alone. Call ``seed_billing_demo()`` after the
demo portals exist (``tenants.demo.seed_demo``), or ``manage.py seed_billing_demo``.
"""

from __future__ import annotations

from billing import gateway, services
from billing.models import Plan, Subscription
from billing.stripe_double import store
from tenants.models import Tenant

DEMO_SUBSCRIPTIONS = [
    # slug, plan, seats, admin email, renewals paid after the trial
    ("acme", "starter", 10, "admin@acme.test", 0),
    ("uni", "pro", 120, "admin@uni.test", 2),
]


def seed_billing_demo() -> list[str]:
    if not gateway.uses_local_double():
        return []
    created: list[str] = []
    for slug, plan_code, seats, email, renewals in DEMO_SUBSCRIPTIONS:
        tenant = Tenant.objects.filter(slug=slug).first()
        if tenant is None:
            continue
        existing = Subscription.objects.filter(tenant=tenant).exclude(stripe_subscription_id="")
        if existing.exists():
            continue
        change = services.choose_plan(
            tenant=tenant,
            plan=Plan.objects.get(code=plan_code),
            seats=seats,
            email=email,
            success_url="http://localhost:8000/",
            cancel_url="http://localhost:8000/",
        )
        session = store.complete_checkout_session(change.checkout_url.rstrip("/").rsplit("/")[-1])
        subscription_id = session["subscription"]
        store.set_subscription_status(subscription_id, "active")  # the trial is over
        for _ in range(renewals - 1):
            store.set_subscription_status(subscription_id, "past_due")
            store.set_subscription_status(subscription_id, "active")
        # The webhooks say the same after commit; syncing now makes the seed self-contained.
        services.sync_subscription(stripe_subscription_id=subscription_id)
        created.append(f"{slug}: {plan_code} with {seats} seats")
    return created
