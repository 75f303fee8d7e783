"""Writes of billing: subscribing, changing plan, syncing from Stripe, seats, metered usage.

Every function takes the tenant explicitly; nothing reads "the current schema". Stripe is
reached only through ``billing.gateway``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from billing import entitlements, gateway
from billing.models import Plan, SeatAssignment, Subscription, UsageRecord
from tenants.models import Tenant

logger = logging.getLogger(__name__)

AI_METER_EVENT = "viva_ai_credits"


class BillingError(Exception):
    """A billing action was refused; the message says why, for the tenant admin."""


def grace_period() -> timedelta:
    return timedelta(days=int(getattr(settings, "VIVA_BILLING_GRACE_DAYS", 7)))


def ai_meter_event_name() -> str:
    return getattr(settings, "VIVA_STRIPE_AI_METER_EVENT", AI_METER_EVENT)


# --- customer, prices, checkout --------------------------------------------------------------


def ensure_customer(*, tenant: Tenant, email: str = "") -> Subscription:
    """The tenant's billing row with a Stripe customer (created once; Free until it pays)."""
    with transaction.atomic():
        subscription = _locked_subscription(tenant)
        if not subscription.stripe_customer_id:
            customer = gateway.create_customer(
                name=tenant.name or tenant.slug, email=email, tenant_schema=tenant.schema_name
            )
            subscription.stripe_customer_id = customer.id
            subscription.save(update_fields=["stripe_customer_id", "updated_at"])
    return subscription


def _locked_subscription(tenant: Tenant) -> Subscription:
    """The tenant's row, locked for this transaction (created on the Free plan if missing)."""
    subscription, _ = Subscription.objects.select_for_update().get_or_create(
        tenant=tenant,
        defaults={"plan": Plan.objects.get(code=entitlements.FREE_PLAN), "seats": 0},
    )
    return subscription


def ensure_plan_price(plan: Plan) -> str:
    if not plan.stripe_price_id:
        price = gateway.ensure_seat_price(
            lookup_key=plan.lookup_key,
            product_name=f"Viva {plan.name} (per seat)",
            unit_amount=plan.seat_price_cents,
            currency=plan.currency,
        )
        Plan.objects.filter(pk=plan.pk).update(stripe_price_id=price.id)
        plan.stripe_price_id = price.id
    return plan.stripe_price_id


def ai_credit_price_decimal() -> str:
    """What one AI credit beyond the plan's credits costs, in minor units (fractions allowed)."""
    return str(settings.VIVA_AI_CREDIT_PRICE_DECIMAL)


def ensure_ai_metered_price(currency: str) -> str:
    """The metered price (on the Billing Meter of ``ai_meter_event_name()``) that turns the
    meter events of ``report_usage_record`` into invoice lines: every paid subscription
    carries it next to its per-seat price, or its overage would never be billed."""
    meter_id = gateway.ensure_meter(
        event_name=ai_meter_event_name(), display_name="Viva AI credits"
    )
    return gateway.ensure_metered_price(
        lookup_key=f"viva_ai_credits_metered_{currency}",
        meter_id=meter_id,
        unit_amount_decimal=ai_credit_price_decimal(),
        currency=currency,
        product_name="Viva AI credits beyond the plan",
    ).id


def _validate_choice(plan: Plan, seats: int, tenant: Tenant) -> None:
    if plan.is_free:
        raise BillingError("The Free plan needs no subscription.")
    if seats < 1:
        raise BillingError("Choose at least one seat.")
    if plan.seats is not None and seats > plan.seats:
        raise BillingError(
            f"The {plan.name} plan allows up to {plan.seats} seats; choose a larger plan."
        )
    in_use = entitlements.seats_in_use(tenant)
    if seats < in_use:
        raise BillingError(
            f"{in_use} seats are assigned; release some before going down to {seats}."
        )


@dataclass(frozen=True)
class PlanChange:
    """The outcome of ``choose_plan``: a Checkout page to send the admin to, or done."""

    checkout_url: str = ""
    changed: bool = False


def choose_plan(
    *, tenant: Tenant, plan: Plan, seats: int, email: str, success_url: str, cancel_url: str
) -> PlanChange:
    """Subscribe through Checkout, or change a live subscription in place (prorated)."""
    _validate_choice(plan, seats, tenant)
    subscription = ensure_customer(tenant=tenant, email=email)
    price_id = ensure_plan_price(plan)
    metered_price_id = ensure_ai_metered_price(plan.currency)
    live = subscription.stripe_subscription_id and subscription.status not in {
        Subscription.Status.CANCELED,
        Subscription.Status.INCOMPLETE,
    }
    if live:
        state = gateway.change_subscription(
            subscription_id=subscription.stripe_subscription_id,
            price_id=price_id,
            seats=seats,
            metered_price_id=metered_price_id,
        )
        apply_subscription_state(tenant=tenant, state=state)
        return PlanChange(changed=True)
    session = gateway.create_checkout_session(
        customer_id=subscription.stripe_customer_id,
        price_id=price_id,
        seats=seats,
        trial_days=plan.trial_days if not subscription.stripe_subscription_id else 0,
        success_url=success_url,
        cancel_url=cancel_url,
        tenant_schema=tenant.schema_name,
        metered_price_id=metered_price_id,
    )
    return PlanChange(checkout_url=session.url)


def finish_checkout(*, tenant: Tenant, session_id: str) -> Subscription | None:
    """Back from Checkout: sync now rather than wait for the webhook (both converge).

    A session of another tenant's customer is ignored (the id comes from the browser).
    """
    subscription = Subscription.objects.filter(tenant=tenant).first()
    if subscription is None or not subscription.stripe_customer_id:
        return None
    try:
        session = gateway.retrieve_checkout_session(session_id)
    except gateway.GatewayError:
        return None
    if session.customer_id != subscription.stripe_customer_id or not session.subscription_id:
        return None
    return sync_subscription(stripe_subscription_id=session.subscription_id)


def portal_url(*, tenant: Tenant, return_url: str) -> str:
    subscription = Subscription.objects.filter(tenant=tenant).first()
    if subscription is None or not subscription.stripe_customer_id:
        raise BillingError("There is no billing account yet: choose a plan first.")
    return gateway.create_portal_session(
        customer_id=subscription.stripe_customer_id, return_url=return_url
    ).url


# --- syncing from Stripe ---------------------------------------------------------------------

STATUS_MAP = {
    "trialing": Subscription.Status.TRIALING,
    "active": Subscription.Status.ACTIVE,
    "past_due": Subscription.Status.PAST_DUE,
    "canceled": Subscription.Status.CANCELED,
    "unpaid": Subscription.Status.UNPAID,
    "incomplete": Subscription.Status.INCOMPLETE,
    "incomplete_expired": Subscription.Status.CANCELED,
    "paused": Subscription.Status.UNPAID,
}


def _tenant_for(state: gateway.SubscriptionState) -> Tenant | None:
    row = (
        Subscription.objects.filter(stripe_subscription_id=state.id)
        .select_related("tenant")
        .first()
        or Subscription.objects.filter(stripe_customer_id=state.customer_id)
        .select_related("tenant")
        .first()
    )
    if row is not None:
        return row.tenant
    schema = state.metadata.get("tenant_schema", "")
    return Tenant.objects.filter(schema_name=schema).first() if schema else None


def sync_subscription(*, stripe_subscription_id: str) -> Subscription | None:
    """Re-read a subscription from Stripe and mirror it (whatever event said what, when)."""
    state = gateway.retrieve_subscription(stripe_subscription_id)
    tenant = _tenant_for(state)
    if tenant is None:
        logger.warning("Stripe subscription %s belongs to no tenant", stripe_subscription_id)
        return None
    return apply_subscription_state(tenant=tenant, state=state)


def apply_subscription_state(
    *, tenant: Tenant, state: gateway.SubscriptionState
) -> Subscription | None:
    """Make the tenant's row say what Stripe says. Idempotent; the row is locked."""
    with transaction.atomic():
        subscription = _locked_subscription(tenant)
        if subscription.stripe_customer_id and state.customer_id != subscription.stripe_customer_id:
            logger.warning("Subscription %s is not of %s's customer", state.id, tenant.slug)
            return None
        current = subscription.stripe_subscription_id
        ended = state.status in {"canceled", "incomplete_expired"}
        if current and current != state.id and ended:
            return subscription  # a late word about an older subscription; the newer one stays
        plan = Plan.objects.filter(stripe_price_id=state.price_id).first()
        if plan is None:
            raise BillingError(f"Stripe price {state.price_id} is not one of Viva's plans.")
        status = STATUS_MAP.get(state.status, Subscription.Status.INCOMPLETE)
        now = timezone.now()
        if status == Subscription.Status.PAST_DUE:
            grace_until = subscription.grace_until or now + grace_period()
        elif status in {Subscription.Status.ACTIVE, Subscription.Status.TRIALING}:
            grace_until = None
        else:
            grace_until = subscription.grace_until
        subscription.stripe_customer_id = state.customer_id
        subscription.stripe_subscription_id = state.id
        subscription.plan = plan
        subscription.status = status
        subscription.seats = state.seats
        subscription.current_period_end = state.current_period_end
        subscription.trial_end = state.trial_end
        subscription.cancel_at_period_end = state.cancel_at_period_end
        subscription.grace_until = grace_until
        subscription.synced_at = now
        subscription.save()
    return subscription


# --- seats -----------------------------------------------------------------------------------


class SeatLimitReached(BillingError):
    pass


def _refuse_a_new_seat(tenant: Tenant) -> None:
    """Raise unless ``tenant`` may take one more seat. Call with the subscription row locked."""
    if entitlements.is_read_only(tenant):
        raise BillingError("The portal is read-only until the subscription is paid.")
    answer = entitlements.check(tenant, entitlements.SEATS)
    if not answer.allowed:
        raise SeatLimitReached(answer.message)


def _seat_of(tenant: Tenant, user_id: int) -> SeatAssignment | None:
    return SeatAssignment.objects.filter(
        tenant=tenant, user_id=user_id, released_at__isnull=True
    ).first()


def _holds_of(tenant: Tenant, email: str):
    return SeatAssignment.objects.filter(
        tenant=tenant, email=email.lower(), user_id__isnull=True, released_at__isnull=True
    )


def assign_seat(
    *,
    tenant: Tenant,
    user_id: int,
    email: str,
    source: str = SeatAssignment.Source.HIRING,
) -> SeatAssignment:
    """Give a person of ``tenant`` a seat, or refuse with the upgrade message.

    The tenant's subscription row is locked for the count and the insert, so concurrent
    invitations are serialised and can never exceed the seats bought. Assigning a seat the
    person already holds returns it. A live hold of their address (an invitation being
    accepted) becomes their seat with no new check: it has counted since it was sent.
    ``source`` defaults to hiring, the first caller.
    """
    with transaction.atomic():
        _locked_subscription(tenant)
        held = _seat_of(tenant, user_id)
        hold = SeatAssignment.objects.counted(tenant.pk).filter(
            user_id__isnull=True, email=email.lower()
        )
        if held is not None:
            hold.update(released_at=timezone.now())
            return held
        claimed = hold.first()
        if claimed is not None:
            claimed.user_id = user_id
            claimed.expires_at = None
            claimed.save(update_fields=["user_id", "expires_at"])
            return claimed
        _refuse_a_new_seat(tenant)
        return SeatAssignment.objects.create(
            tenant=tenant, user_id=user_id, email=email.lower(), source=source
        )


def hold_seat(*, tenant: Tenant, email: str, expires_at: datetime) -> SeatAssignment:
    """Hold a seat for an invited ``email`` until ``expires_at`` (the invitation's expiry), or
    refuse with the upgrade message. The hold counts from now, under the same lock as
    ``assign_seat``, so invitations sent at once can never promise more seats than were
    bought. An earlier hold of the same address (an expired invitation) is given back first.
    """
    with transaction.atomic():
        _locked_subscription(tenant)
        _holds_of(tenant, email).update(released_at=timezone.now())
        _refuse_a_new_seat(tenant)
        return SeatAssignment.objects.create(
            tenant=tenant,
            email=email.lower(),
            expires_at=expires_at,
            source=SeatAssignment.Source.INVITATION,
        )


def _lock_for_release(tenant: Tenant) -> None:
    """Serialise a release with the tenant's assignments, without creating a Free tenant's
    row just to lock it (disabling a staff account of a Free portal releases nothing)."""
    Subscription.objects.select_for_update().filter(tenant=tenant).first()


def release_seat(*, tenant: Tenant, user_id: int) -> bool:
    """Free the seat of a person who left (True if they held one)."""
    with transaction.atomic():
        _lock_for_release(tenant)
        released = SeatAssignment.objects.filter(
            tenant=tenant, user_id=user_id, released_at__isnull=True
        ).update(released_at=timezone.now())
    return bool(released)


def release_seat_hold(*, tenant: Tenant, email: str) -> bool:
    """Give back the hold of an invitation that was revoked (True if there was one)."""
    with transaction.atomic():
        _lock_for_release(tenant)
        released = _holds_of(tenant, email).update(released_at=timezone.now())
    return bool(released)


def forget_seat_holder(*, tenant: Tenant, user_id: int, email: str, replacement: str) -> int:
    """A person is erased: free their seat and any hold of their address, and replace the
    address in every seat row of theirs (these rows are in the public schema, outside the
    tenant's own erasure). Returns how many rows were anonymised."""
    with transaction.atomic():
        _lock_for_release(tenant)
        now = timezone.now()
        theirs = SeatAssignment.objects.filter(tenant=tenant).filter(
            Q(user_id=user_id) | Q(user_id__isnull=True, email=email.lower())
        )
        theirs.filter(released_at__isnull=True).update(released_at=now)
        return theirs.update(email=replacement)


# --- metered usage ---------------------------------------------------------------------------


def record_usage(*, tenant: Tenant, feature: str, units: int) -> UsageRecord:
    """Count ``units`` of a metered feature (AI credits). Units beyond the plan's monthly
    credits are reported to Stripe after commit (on a paid plan); on Free they are refused."""
    if units < 1:
        raise ValueError("units must be positive")
    with transaction.atomic():
        subscription = _locked_subscription(tenant)
        answer = entitlements.check(tenant, feature, requested=units)
        if not answer.allowed:
            raise BillingError(answer.message)
        remaining = answer.remaining if answer.remaining is not None else units
        overage = max(units - remaining, 0) if answer.metered else 0
        record = UsageRecord.objects.create(
            tenant=tenant,
            feature=feature,
            units=units,
            overage_units=overage,
            occurred_at=timezone.now(),
        )
        if overage and subscription.stripe_customer_id:
            from billing.tasks import report_usage

            transaction.on_commit(
                lambda: report_usage.delay(tenant_id=tenant.pk, usage_record_id=record.pk)
            )
    return record


def report_usage_record(*, tenant_id: int, usage_record_id: int) -> bool:
    """Send one record's overage to Stripe as a meter event (retries count once: the record's
    idempotency key is the meter event's identifier)."""
    with transaction.atomic():
        record = (
            UsageRecord.objects.select_for_update()
            .filter(pk=usage_record_id, tenant_id=tenant_id)
            .first()
        )
        if record is None or record.reported_to_stripe_at or not record.overage_units:
            return False
        subscription = Subscription.objects.get(tenant_id=tenant_id)
        try:
            gateway.report_meter_event(
                event_name=ai_meter_event_name(),
                customer_id=subscription.stripe_customer_id,
                value=record.overage_units,
                identifier=str(record.idempotency_key),
                timestamp=record.occurred_at,
            )
        except gateway.GatewayError as exc:
            record.report_error = str(exc)
            record.save(update_fields=["report_error"])
            return False
        record.reported_to_stripe_at = timezone.now()
        record.report_error = ""
        record.save(update_fields=["reported_to_stripe_at", "report_error"])
    return True
