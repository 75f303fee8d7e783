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
    mode: str = ""
    payment_status: str = ""  # "paid" once the money is taken (payment mode)
    payment_intent_id: str = ""


@dataclass(frozen=True)
class ConnectedAccount:
    """A publisher's Stripe Connect (Express) account, as Stripe reports it now."""

    id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool


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
    """The double stands in for Stripe only in development (DEBUG) and where the settings say
    so (the test settings); elsewhere a missing ``STRIPE_SECRET_KEY`` is an error, never a
    free Stripe."""
    return bool(getattr(settings, "VIVA_STRIPE_DOUBLE_SERVED", settings.DEBUG))


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
    return _price_by_lookup_key(
        lookup_key=lookup_key,
        product_name=product_name,
        price={
            "unit_amount": unit_amount,
            "currency": currency,
            "recurring": {"interval": "month", "usage_type": "licensed"},
        },
    )


def _price_by_lookup_key(*, lookup_key: str, product_name: str, price: dict[str, Any]) -> Price:
    """The price with ``lookup_key``, or a new one with ``price``'s terms on a new product."""
    stripe_client = client()
    found = _call(stripe_client.v1.prices.list, params={"lookup_keys": [lookup_key], "limit": 1})
    for existing in found.data:
        return Price(id=existing.id, lookup_key=lookup_key, unit_amount=existing.unit_amount or 0)
    product = _call(stripe_client.v1.products.create, params={"name": product_name})
    created = _call(
        stripe_client.v1.prices.create,
        params={"product": product.id, "lookup_key": lookup_key, **price},
    )
    return Price(id=created.id, lookup_key=lookup_key, unit_amount=created.unit_amount or 0)


def ensure_meter(*, event_name: str, display_name: str) -> str:
    """The id of the active Billing Meter summing the ``value`` of ``event_name`` meter events
    per customer (``report_meter_event``'s payload), created on first use."""
    stripe_client = client()
    found = _call(stripe_client.v1.billing.meters.list, params={"status": "active", "limit": 100})
    for meter in found.data:
        if _get(meter, "event_name") == event_name:
            return meter.id
    meter = _call(
        stripe_client.v1.billing.meters.create,
        params={
            "display_name": display_name,
            "event_name": event_name,
            "default_aggregation": {"formula": "sum"},
            "customer_mapping": {"type": "by_id", "event_payload_key": "stripe_customer_id"},
            "value_settings": {"event_payload_key": "value"},
        },
        options={"idempotency_key": f"viva-meter-{event_name}"},
    )
    return meter.id


def ensure_metered_price(
    *,
    lookup_key: str,
    meter_id: str,
    unit_amount_decimal: str,
    currency: str,
    product_name: str,
) -> Price:
    """The monthly price billing the units a meter summed (``unit_amount_decimal`` minor
    units each, fractions of a cent allowed), created (with its product) on first use. A
    subscription item on it has no quantity: Stripe bills what the meter counted."""
    return _price_by_lookup_key(
        lookup_key=lookup_key,
        product_name=product_name,
        price={
            "unit_amount_decimal": unit_amount_decimal,
            "currency": currency,
            "recurring": {"interval": "month", "usage_type": "metered", "meter": meter_id},
        },
    )


# --- checkout and portal ---------------------------------------------------------------------


def _checkout_session(session: Any) -> CheckoutSession:
    return CheckoutSession(
        id=session.id,
        url=_get(session, "url", ""),
        status=_get(session, "status", ""),
        customer_id=_id(_get(session, "customer")),
        subscription_id=_id(_get(session, "subscription")),
        metadata=_plain(_get(session, "metadata")),
        mode=_get(session, "mode", ""),
        payment_status=_get(session, "payment_status", ""),
        payment_intent_id=_id(_get(session, "payment_intent")),
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
    metered_price_id: str = "",
) -> CheckoutSession:
    """A Checkout session (subscription mode) for ``seats`` seats of one plan's price and,
    with ``metered_price_id``, the metered price billing usage (a line item without
    quantity, as Stripe requires for metered prices)."""
    line_items: list[dict[str, Any]] = [{"price": price_id, "quantity": seats}]
    if metered_price_id:
        line_items.append({"price": metered_price_id})
    subscription_data: dict[str, Any] = {"metadata": {"tenant_schema": tenant_schema}}
    if trial_days:
        subscription_data["trial_period_days"] = trial_days
    session = _call(
        client().v1.checkout.sessions.create,
        params={
            "mode": "subscription",
            "customer": customer_id,
            "line_items": line_items,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "client_reference_id": tenant_schema,
            "metadata": {"tenant_schema": tenant_schema},
            "subscription_data": subscription_data,
        },
    )
    return _checkout_session(session)


def create_payment_checkout_session(
    *,
    description: str,
    unit_amount: int,
    quantity: int,
    currency: str,
    application_fee_amount: int,
    destination_account: str | None,
    metadata: dict[str, str],
    client_reference_id: str,
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
) -> CheckoutSession:
    """A Checkout session (payment mode) for ``quantity`` × ``unit_amount`` of one item.

    With ``destination_account`` (a Connect account able to receive transfers) it is a
    destination charge: Stripe moves the payment less ``application_fee_amount`` to that
    account. Without one the platform keeps the whole payment and pays the seller later
    (``create_transfer``); Stripe takes an application fee only with a destination.
    """
    payment_intent_data: dict[str, Any] = {"metadata": metadata}
    if destination_account:
        payment_intent_data["application_fee_amount"] = application_fee_amount
        payment_intent_data["transfer_data"] = {"destination": destination_account}
    session = _call(
        client().v1.checkout.sessions.create,
        params={
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {
                        "currency": currency,
                        "unit_amount": unit_amount,
                        "product_data": {"name": description},
                    },
                    "quantity": quantity,
                }
            ],
            "payment_intent_data": payment_intent_data,
            "metadata": metadata,
            "client_reference_id": client_reference_id,
            "success_url": success_url,
            "cancel_url": cancel_url,
        },
        options={"idempotency_key": idempotency_key},
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


def _is_metered(item: Any) -> bool:
    return _get(_get(_get(item, "price", {}), "recurring", {}), "usage_type") == "metered"


def _seat_item(sub: Any) -> Any:
    """The subscription's per-seat item: told apart from the metered usage item by its
    price, whatever order Stripe lists the items in."""
    items = _get(_get(sub, "items", {}), "data", []) or []
    return next((item for item in items if not _is_metered(item)), None)


def _subscription_state(sub: Any) -> SubscriptionState:
    item = _seat_item(sub)
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


def change_subscription(
    *, subscription_id: str, price_id: str, seats: int, metered_price_id: str = ""
) -> SubscriptionState:
    """Move a subscription to another price and/or seat count, prorating the difference; a
    subscription without the metered usage item (``metered_price_id``) gets it."""
    stripe_client = client()
    sub = _call(stripe_client.v1.subscriptions.retrieve, subscription_id)
    seat_item = _seat_item(sub)
    if seat_item is None:
        raise GatewayError(f"Subscription {subscription_id} has no per-seat item.")
    items: list[dict[str, Any]] = [{"id": seat_item.id, "price": price_id, "quantity": seats}]
    priced = {_id(_get(item, "price")) for item in sub["items"].data}
    if metered_price_id and metered_price_id not in priced:
        items.append({"price": metered_price_id})
    updated = _call(
        stripe_client.v1.subscriptions.update,
        subscription_id,
        params={
            "items": items,
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


# --- Connect: publishers' accounts and transfers ----------------------------------------------


def _connected_account(account: Any) -> ConnectedAccount:
    return ConnectedAccount(
        id=account.id,
        charges_enabled=bool(_get(account, "charges_enabled", False)),
        payouts_enabled=bool(_get(account, "payouts_enabled", False)),
        details_submitted=bool(_get(account, "details_submitted", False)),
    )


def create_connected_account(*, name: str, email: str, tenant_schema: str) -> ConnectedAccount:
    """An Express account for a seller; Stripe collects its identity and bank details on the
    onboarding pages (``create_onboarding_link``)."""
    account = _call(
        client().v1.accounts.create,
        params={
            "type": "express",
            "email": email,
            "business_profile": {"name": name},
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
            "metadata": {"tenant_schema": tenant_schema},
        },
        options={"idempotency_key": f"viva-connect-account-{tenant_schema}"},
    )
    return _connected_account(account)


def retrieve_connected_account(account_id: str) -> ConnectedAccount:
    return _connected_account(_call(client().v1.accounts.retrieve, account_id))


def create_onboarding_link(*, account_id: str, refresh_url: str, return_url: str) -> str:
    """A one-time URL of Stripe's onboarding for ``account_id``; Stripe sends the seller back
    to ``return_url`` (done or not: read the account again) or ``refresh_url`` (expired)."""
    link = _call(
        client().v1.account_links.create,
        params={
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        },
    )
    return link.url


def create_transfer(
    *, amount: int, currency: str, destination: str, transfer_group: str, idempotency_key: str
) -> str:
    """Move ``amount`` from the platform's balance to a connected account; a retry with the
    same ``idempotency_key`` returns the first transfer instead of sending a second."""
    transfer = _call(
        client().v1.transfers.create,
        params={
            "amount": amount,
            "currency": currency,
            "destination": destination,
            "transfer_group": transfer_group,
        },
        options={"idempotency_key": idempotency_key},
    )
    return transfer.id


def find_transfer(*, transfer_group: str) -> str:
    """The id of a transfer already made for ``transfer_group`` ("" if none): what makes a
    payout retried after Stripe forgot its idempotency key (24 hours) send nothing twice."""
    found = _call(client().v1.transfers.list, params={"transfer_group": transfer_group, "limit": 1})
    return next((transfer.id for transfer in found.data), "")


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
