"""The one module that talks to Stripe. Nothing else in Viva imports ``stripe``.

Thin functions with dataclasses crossing the boundary. With ``STRIPE_SECRET_KEY`` set, the
official client talks to Stripe (test or live mode, as the key says). Without it, the same
client talks to the local Stripe double (``billing.stripe_double``): its base address is the
double's URL (``VIVA_STRIPE_DOUBLE_URL``, which the checkout and portal links point at), and
its HTTP client hands each request to the double in-process, so the double works in a
management command, a worker or a test as well as behind the dev server.

Settings (read here, with embedded defaults):

- ``STRIPE_SECRET_KEY``: a Stripe secret key; empty means the local double.
- ``STRIPE_WEBHOOK_SECRET``: the signing secret of the webhook endpoint (``whsec_...``).
- ``VIVA_STRIPE_DOUBLE_URL``: where the double is served (``http://localhost:8000/_stripe``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings

DOUBLE_API_KEY = "sk_test_viva_local_double"  # noqa: S105 - not a secret: the double's key
DOUBLE_WEBHOOK_SECRET = "whsec_viva_local_double"  # noqa: S105 - same


class GatewayError(Exception):
    """Stripe (or the double) refused or could not be reached; the message is for people."""


class SignatureError(Exception):
    """A webhook whose signature, timestamp or body does not verify."""


# --- what crosses the boundary ---------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    id: str


@dataclass(frozen=True)
class Price:
    id: str
    lookup_key: str
    unit_amount: int


@dataclass(frozen=True)
class CheckoutSession:
    id: str
    url: str
    status: str
    customer_id: str
    subscription_id: str
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PortalSession:
    id: str
    url: str


@dataclass(frozen=True)
class SubscriptionState:
    """What Stripe says a subscription is now (the only source of truth for ``sync``)."""

    id: str
    customer_id: str
    status: str
    price_id: str
    seats: int
    current_period_end: datetime | None
    trial_end: datetime | None
    cancel_at_period_end: bool
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Invoice:
    id: str
    number: str
    status: str
    amount_due: int
    amount_paid: int
    currency: str
    created: datetime
    hosted_invoice_url: str
    description: str


@dataclass(frozen=True)
class WebhookEvent:
    id: str
    type: str
    object_type: str
    object_id: str
    customer_id: str
    subscription_id: str
    payload: dict[str, Any]


# --- the client ------------------------------------------------------------------------------


def uses_local_double() -> bool:
    return not _secret_key()


def local_double_allowed() -> bool:
    """The double stands in for Stripe only in development (DEBUG) and under the test
    settings; elsewhere a missing ``STRIPE_SECRET_KEY`` is an error, never a free Stripe."""
    default = settings.DEBUG or str(settings.SETTINGS_MODULE).endswith(".test")
    return bool(getattr(settings, "VIVA_STRIPE_DOUBLE_SERVED", default))


def _secret_key() -> str:
    return getattr(settings, "STRIPE_SECRET_KEY", None) or os.environ.get("STRIPE_SECRET_KEY", "")


def webhook_secret() -> str:
    configured = getattr(settings, "STRIPE_WEBHOOK_SECRET", None) or os.environ.get(
        "STRIPE_WEBHOOK_SECRET", ""
    )
    if configured:
        return configured
    if uses_local_double() and local_double_allowed():
        return DOUBLE_WEBHOOK_SECRET
    raise GatewayError("STRIPE_WEBHOOK_SECRET is not set.")


def double_base_url() -> str:
    return getattr(settings, "VIVA_STRIPE_DOUBLE_URL", None) or os.environ.get(
        "VIVA_STRIPE_DOUBLE_URL", "http://localhost:8000/_stripe"
    )


class _InProcessDoubleClient(stripe.HTTPClient):
    """Hands Stripe's HTTP requests to the local double without a socket."""

    name = "viva-local-double"

    def request(self, method, url, headers, post_data=None, *, _usage=None):
        from billing.stripe_double.api import dispatch

        body = post_data.encode() if isinstance(post_data, str) else (post_data or b"")
        status, content, response_headers = dispatch(
            method=method.upper(), url=url, headers=dict(headers or {}), body=body
        )
        return content, status, response_headers

    def request_stream(self, method, url, headers, post_data=None, *, _usage=None):
        # Streaming is for endpoints the gateway never calls (file downloads); refuse loudly.
        raise NotImplementedError("the local Stripe double does not stream")

    def close(self):
        pass


def client() -> stripe.StripeClient:
    key = _secret_key()
    if key:
        return stripe.StripeClient(key, max_network_retries=2)
    if not local_double_allowed():
        raise GatewayError("Payments are not configured (STRIPE_SECRET_KEY is not set).")
    base = double_base_url()
    return stripe.StripeClient(
        DOUBLE_API_KEY,
        base_addresses={"api": base, "connect": base, "files": base, "meter_events": base},
        http_client=_InProcessDoubleClient(),
    )


def _call(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except stripe.StripeError as exc:
        message = getattr(exc, "user_message", None) or str(exc)
        raise GatewayError(message) from exc


def _get(obj: Any, key: str, default: Any = None) -> Any:
    try:
        value = obj[key]
    except (KeyError, TypeError):
        return default
    return default if value is None else value


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _plain(value: Any) -> dict[str, Any]:
    if not value:
        return {}
    return value.to_dict() if hasattr(value, "to_dict") else dict(value)


def _id(value: Any) -> str:
    """An expandable field: either an id or the object."""
    if not value:
        return ""
    return value if isinstance(value, str) else str(_get(value, "id", ""))


# --- customers, prices -----------------------------------------------------------------------


def create_customer(*, name: str, email: str, tenant_schema: str) -> Customer:
    customer = _call(
        client().v1.customers.create,
        params={"name": name, "email": email, "metadata": {"tenant_schema": tenant_schema}},
        options={"idempotency_key": f"viva-customer-{tenant_schema}"},
    )
    return Customer(id=customer.id)


def ensure_seat_price(
    *, lookup_key: str, product_name: str, unit_amount: int, currency: str
) -> Price:
    """The monthly per-seat price of a plan, created (with its product) on first use."""
    stripe_client = client()
    found = _call(stripe_client.v1.prices.list, params={"lookup_keys": [lookup_key], "limit": 1})
    for price in found.data:
        return Price(id=price.id, lookup_key=lookup_key, unit_amount=price.unit_amount or 0)
    product = _call(stripe_client.v1.products.create, params={"name": product_name})
    price = _call(
        stripe_client.v1.prices.create,
        params={
            "product": product.id,
            "unit_amount": unit_amount,
            "currency": currency,
            "recurring": {"interval": "month", "usage_type": "licensed"},
            "lookup_key": lookup_key,
        },
    )
    return Price(id=price.id, lookup_key=lookup_key, unit_amount=price.unit_amount or 0)


# --- checkout and portal ---------------------------------------------------------------------


def _checkout_session(session: Any) -> CheckoutSession:
    return CheckoutSession(
        id=session.id,
        url=_get(session, "url", ""),
        status=_get(session, "status", ""),
        customer_id=_id(_get(session, "customer")),
        subscription_id=_id(_get(session, "subscription")),
        metadata=_plain(_get(session, "metadata")),
    )


def create_checkout_session(
    *,
    customer_id: str,
    price_id: str,
    seats: int,
    trial_days: int,
    success_url: str,
    cancel_url: str,
    tenant_schema: str,
) -> CheckoutSession:
    """A Checkout session (subscription mode) for ``seats`` seats of one plan's price."""
    subscription_data: dict[str, Any] = {"metadata": {"tenant_schema": tenant_schema}}
    if trial_days:
        subscription_data["trial_period_days"] = trial_days
    session = _call(
        client().v1.checkout.sessions.create,
        params={
            "mode": "subscription",
            "customer": customer_id,
            "line_items": [{"price": price_id, "quantity": seats}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": tenant_schema,
            "metadata": {"tenant_schema": tenant_schema},
            "subscription_data": subscription_data,
        },
    )
    return _checkout_session(session)


def retrieve_checkout_session(session_id: str) -> CheckoutSession:
    return _checkout_session(_call(client().v1.checkout.sessions.retrieve, session_id))


def create_portal_session(*, customer_id: str, return_url: str) -> PortalSession:
    session = _call(
        client().v1.billing_portal.sessions.create,
        params={"customer": customer_id, "return_url": return_url},
    )
    return PortalSession(id=session.id, url=session.url)


# --- subscriptions and invoices --------------------------------------------------------------


def _subscription_state(sub: Any) -> SubscriptionState:
    items = _get(_get(sub, "items", {}), "data", []) or []
    item = items[0] if items else None
    period_end = _get(item, "current_period_end") if item is not None else None
    return SubscriptionState(
        id=sub.id,
        customer_id=_id(_get(sub, "customer")),
        status=_get(sub, "status", ""),
        price_id=_id(_get(item, "price")) if item is not None else "",
        seats=int(_get(item, "quantity", 0)) if item is not None else 0,
        current_period_end=_ts(period_end or _get(sub, "current_period_end")),
        trial_end=_ts(_get(sub, "trial_end")),
        cancel_at_period_end=bool(_get(sub, "cancel_at_period_end", False)),
        metadata=_plain(_get(sub, "metadata")),
    )


def retrieve_subscription(subscription_id: str) -> SubscriptionState:
    return _subscription_state(_call(client().v1.subscriptions.retrieve, subscription_id))


def change_subscription(*, subscription_id: str, price_id: str, seats: int) -> SubscriptionState:
    """Move a subscription to another price and/or seat count, prorating the difference."""
    stripe_client = client()
    sub = _call(stripe_client.v1.subscriptions.retrieve, subscription_id)
    item_id = sub["items"].data[0].id
    updated = _call(
        stripe_client.v1.subscriptions.update,
        subscription_id,
        params={
            "items": [{"id": item_id, "price": price_id, "quantity": seats}],
            "proration_behavior": "create_prorations",
            "cancel_at_period_end": False,
        },
    )
    return _subscription_state(updated)


def cancel_subscription(subscription_id: str) -> SubscriptionState:
    return _subscription_state(_call(client().v1.subscriptions.cancel, subscription_id))


def list_invoices(*, customer_id: str, limit: int = 24) -> list[Invoice]:
    found = _call(client().v1.invoices.list, params={"customer": customer_id, "limit": limit})
    return [
        Invoice(
            id=inv.id,
            number=_get(inv, "number", ""),
            status=_get(inv, "status", ""),
            amount_due=int(_get(inv, "amount_due", 0)),
            amount_paid=int(_get(inv, "amount_paid", 0)),
            currency=_get(inv, "currency", "usd"),
            created=_ts(_get(inv, "created")) or datetime.now(UTC),
            hosted_invoice_url=_get(inv, "hosted_invoice_url", ""),
            description=_get(inv, "description", ""),
        )
        for inv in found.data
    ]


# --- metered usage ---------------------------------------------------------------------------


def report_meter_event(
    *, event_name: str, customer_id: str, value: int, identifier: str, timestamp: datetime
) -> str:
    """Report ``value`` units for a customer; ``identifier`` makes retries count once."""
    event = _call(
        client().v1.billing.meter_events.create,
        params={
            "event_name": event_name,
            "payload": {"stripe_customer_id": customer_id, "value": str(value)},
            "identifier": identifier,
            "timestamp": int(timestamp.timestamp()),
        },
        options={"idempotency_key": identifier},
    )
    return _get(event, "identifier", identifier)


# --- webhooks --------------------------------------------------------------------------------


def verify_webhook(*, payload: bytes, signature: str | None) -> WebhookEvent:
    """Check the ``Stripe-Signature`` of a raw body and return the event it carries."""
    if not signature:
        raise SignatureError("No Stripe-Signature header.")
    try:
        event = stripe.Webhook.construct_event(payload, signature, webhook_secret())
    except (stripe.SignatureVerificationError, ValueError) as exc:
        raise SignatureError(str(exc)) from exc
    obj = event.data.object
    object_type = _get(obj, "object", "")
    subscription_id = obj.id if object_type == "subscription" else _id(_get(obj, "subscription"))
    if not subscription_id and object_type == "invoice":
        # Invoices of API 2025-03-31 and later name their subscription under ``parent``.
        details = _get(_get(obj, "parent", {}), "subscription_details", {})
        subscription_id = _id(_get(details, "subscription"))
    return WebhookEvent(
        id=event.id,
        type=event.type,
        object_type=object_type,
        object_id=_get(obj, "id", ""),
        customer_id=obj.id if object_type == "customer" else _id(_get(obj, "customer")),
        subscription_id=subscription_id,
        payload=json.loads(payload),
    )
