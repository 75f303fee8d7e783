"""Stripe webhooks: verify, store once, process idempotently.

Processing never trusts what an event says happened, nor the order events arrive in: it reads
the subscription (or the marketplace's one-off Checkout session) from Stripe again and
mirrors that (``services.sync_subscription``, ``marketplace.payments.complete_purchase``), so
duplicated, late and shuffled deliveries all converge to Stripe's state. Each event row is
locked while it is processed; a failure is recorded on the row and answered with 500, so
Stripe delivers again and the next delivery processes it again (applying state is idempotent).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from billing import gateway, services
from billing.models import StripeEvent

logger = logging.getLogger(__name__)

#: Metadata key of Checkout sessions that pay for a marketplace purchase (its id).
MARKETPLACE_PURCHASE_KEY = "viva_marketplace_purchase"


class ProcessingError(Exception):
    """The event is stored but could not be applied; Stripe should deliver it again."""


def receive_webhook(*, payload: bytes, signature: str | None) -> StripeEvent:
    """Verify a delivery (raises ``gateway.SignatureError``), store it once, process it."""
    event = gateway.verify_webhook(payload=payload, signature=signature)
    StripeEvent.objects.get_or_create(
        event_id=event.id, defaults={"type": event.type, "payload": event.payload}
    )
    return process_event(event)


def process_event(event: gateway.WebhookEvent) -> StripeEvent:
    failure = ""
    with transaction.atomic():
        record = StripeEvent.objects.select_for_update().get(event_id=event.id)
        if record.processed_at is not None:
            return record
        record.attempts += 1
        try:
            with transaction.atomic():
                apply_event(event)
        except Exception as exc:  # recorded on the row; Stripe retries the delivery
            logger.exception("Stripe event %s failed", event.id)
            failure = f"{type(exc).__name__}: {exc}"
            record.error = failure
        else:
            record.error = ""
            record.processed_at = timezone.now()
        record.save(update_fields=["attempts", "error", "processed_at"])
    if failure:
        raise ProcessingError(failure)
    return record


def apply_event(event: gateway.WebhookEvent) -> None:
    if event.subscription_id:
        services.sync_subscription(stripe_subscription_id=event.subscription_id)
    elif event.object_type == "checkout.session":
        session = gateway.retrieve_checkout_session(event.object_id)
        if session.subscription_id:
            services.sync_subscription(stripe_subscription_id=session.subscription_id)
        elif MARKETPLACE_PURCHASE_KEY in session.metadata:
            # Imported here: the marketplace builds on billing, not the other way round.
            from marketplace.payments import complete_purchase

            complete_purchase(session_id=session.id)
    # Other events (customer.*, meter events, Connect accounts and transfers...) change
    # nothing Viva mirrors: the marketplace reads a publisher's account when it needs it.
