"""What the local Stripe double does: its objects, their life cycle, and its events.

Each change that Stripe would announce creates an ``event`` object whose webhook is delivered
after the transaction commits (``billing.stripe_double.delivery``). Keys starting with ``_``
are the double's own bookkeeping and never leave it (``public``).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.db import transaction

from billing.stripe_double.models import DoubleObject

PREFIXES = {
    "customer": "cus",
    "product": "prod",
    "price": "price",
    "checkout.session": "cs_test",
    "billing_portal.session": "bps",
    "subscription": "sub",
    "subscription_item": "si",
    "invoice": "in",
    "billing.meter_event": "mtrevt",
    "event": "evt",
}
PERIOD_SECONDS = 30 * 24 * 3600


def base_url() -> str:
    from billing.gateway import double_base_url

    return double_base_url().rstrip("/")


def new_id(object_type: str) -> str:
    return f"{PREFIXES[object_type]}_{secrets.token_hex(12)}"


def now() -> int:
    return int(time.time())


def public(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if not k.startswith("_")}


def create(
    object_type: str, fields: dict[str, Any], *, object_id: str = "", customer: str = ""
) -> dict[str, Any]:
    data = {
        "id": object_id or new_id(object_type),
        "object": object_type,
        "created": now(),
        "livemode": False,
        **fields,
    }
    DoubleObject.objects.create(
        id=data["id"],
        object=object_type,
        customer=customer or data.get("customer") or "",
        data=data,
    )
    return public(data)


def get(object_id: str, *, for_update: bool = False) -> dict[str, Any] | None:
    query = DoubleObject.objects.filter(id=object_id)
    if for_update:
        query = query.select_for_update()
    found = query.first()
    return found.data if found else None


def save(data: dict[str, Any]) -> dict[str, Any]:
    DoubleObject.objects.filter(id=data["id"]).update(data=data)
    return public(data)


def all(object_type: str, *, customer: str | None = None) -> list[dict[str, Any]]:  # noqa: A001
    query = DoubleObject.objects.filter(object=object_type)
    if customer is not None:
        query = query.filter(customer=customer)
    return [public(o.data) for o in query]


def find(object_type: str, **fields: Any) -> dict[str, Any] | None:
    found = DoubleObject.objects.filter(
        object=object_type, **{f"data__{k}": v for k, v in fields.items()}
    )
    first = found.first()
    return first.data if first else None


def as_list(items: list[dict[str, Any]], url: str, params: dict[str, Any]) -> dict[str, Any]:
    limit = int(params.get("limit") or 10)
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit, "url": url}


# --- events ----------------------------------------------------------------------------------


def emit(event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Record an event carrying a snapshot of ``obj``; its webhook goes out after commit."""
    from billing.stripe_double import delivery

    event = create(
        "event",
        {
            "type": event_type,
            "api_version": "2025-09-30.clover",
            "data": {"object": public(obj)},
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
        },
        customer=obj["id"] if obj.get("object") == "customer" else obj.get("customer") or "",
    )
    transaction.on_commit(lambda: delivery.enqueue(event["id"]))
    return event


# --- checkout and portal ---------------------------------------------------------------------


def create_checkout_session(
    *,
    customer: str,
    line_items: list[dict[str, Any]],
    success_url: str,
    cancel_url: str,
    metadata: dict[str, str],
    client_reference_id: str | None,
    subscription_data: dict[str, Any],
) -> dict[str, Any]:
    session_id = new_id("checkout.session")
    return create(
        "checkout.session",
        {
            "mode": "subscription",
            "customer": customer,
            "status": "open",
            "payment_status": "unpaid",
            "url": f"{base_url()}/checkout/{session_id}/",
            "success_url": success_url.replace("{CHECKOUT_SESSION_ID}", session_id),
            "cancel_url": cancel_url,
            "metadata": metadata,
            "client_reference_id": client_reference_id,
            "subscription": None,
            "_line_items": line_items,
            "_subscription_data": subscription_data,
        },
        object_id=session_id,
    )


@transaction.atomic
def complete_checkout_session(session_id: str) -> dict[str, Any]:
    """What paying on the confirmation page does: a subscription, its first invoice, events."""
    session = get(session_id, for_update=True)
    if session is None or session["object"] != "checkout.session":
        raise LookupError(session_id)
    if session["status"] != "open":
        return public(session)
    item = session["_line_items"][0]
    data = session.get("_subscription_data") or {}
    trial_days = int(data.get("trial_period_days") or 0)
    subscription = _create_subscription(
        customer=session["customer"],
        price_id=item["price"],
        quantity=int(item["quantity"]),
        trial_days=trial_days,
        metadata=data.get("metadata") or {},
    )
    session.update(status="complete", payment_status="paid", subscription=subscription["id"])
    save(session)
    emit("checkout.session.completed", session)
    return public(session)


def create_portal_session(*, customer: str, return_url: str) -> dict[str, Any]:
    session_id = new_id("billing_portal.session")
    return create(
        "billing_portal.session",
        {
            "customer": customer,
            "return_url": return_url,
            "url": f"{base_url()}/portal/{session_id}/",
        },
        object_id=session_id,
    )


# --- subscriptions and invoices --------------------------------------------------------------


def _price(price_id: str) -> dict[str, Any]:
    price = get(price_id)
    assert price is not None, price_id
    return public(price)


def _create_subscription(
    *, customer: str, price_id: str, quantity: int, trial_days: int, metadata: dict[str, str]
) -> dict[str, Any]:
    start = now()
    trial_end = start + trial_days * 24 * 3600 if trial_days else None
    period_end = trial_end or start + PERIOD_SECONDS
    subscription_id = new_id("subscription")
    subscription = create(
        "subscription",
        {
            "customer": customer,
            "status": "trialing" if trial_days else "active",
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": new_id("subscription_item"),
                        "object": "subscription_item",
                        "price": _price(price_id),
                        "quantity": quantity,
                        "current_period_start": start,
                        "current_period_end": period_end,
                        "subscription": subscription_id,
                    }
                ],
            },
            "cancel_at_period_end": False,
            "canceled_at": None,
            "trial_end": trial_end,
            "metadata": metadata,
            "latest_invoice": None,
        },
        object_id=subscription_id,
    )
    emit("customer.subscription.created", subscription)
    amount = (
        0 if trial_days else subscription["items"]["data"][0]["price"]["unit_amount"] * quantity
    )
    invoice = _invoice(subscription, amount=amount, description="Subscription creation", paid=True)
    subscription["latest_invoice"] = invoice["id"]
    return save(subscription)


def _invoice(
    subscription: dict[str, Any], *, amount: int, description: str, paid: bool
) -> dict[str, Any]:
    customer = subscription["customer"]
    count = DoubleObject.objects.filter(object="invoice", customer=customer).count()
    item = subscription["items"]["data"][0]
    invoice_id = new_id("invoice")
    invoice = create(
        "invoice",
        {
            "customer": customer,
            "number": f"{customer[-6:].upper()}-{count + 1:04d}",
            "status": "paid" if paid else "open",
            "amount_due": max(amount, 0),
            "amount_paid": max(amount, 0) if paid else 0,
            "currency": item["price"]["currency"],
            "description": description,
            "hosted_invoice_url": f"{base_url()}/invoices/{invoice_id}/",
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": subscription["id"]},
            },
            "lines": {
                "object": "list",
                "data": [
                    {
                        "object": "line_item",
                        "amount": amount,
                        "quantity": item["quantity"],
                        "description": f"{item['quantity']} × seat",
                    }
                ],
            },
        },
        object_id=invoice_id,
    )
    emit("invoice.created", invoice)
    emit("invoice.paid" if paid else "invoice.payment_failed", invoice)
    return invoice


@transaction.atomic
def update_subscription(
    subscription_id: str,
    *,
    price_id: str | None = None,
    quantity: int | None = None,
    cancel_at_period_end: bool | None = None,
    prorate: bool = True,
) -> dict[str, Any]:
    subscription = get(subscription_id, for_update=True)
    assert subscription is not None
    item = subscription["items"]["data"][0]
    before = item["price"]["unit_amount"] * item["quantity"]
    if price_id:
        item["price"] = _price(price_id)
    if quantity is not None:
        item["quantity"] = quantity
    if cancel_at_period_end is not None:
        subscription["cancel_at_period_end"] = cancel_at_period_end
    after = item["price"]["unit_amount"] * item["quantity"]
    save(subscription)
    emit("customer.subscription.updated", subscription)
    if prorate and after != before and subscription["status"] == "active":
        left = max(item["current_period_end"] - now(), 0) / PERIOD_SECONDS
        _invoice(
            subscription,
            amount=round((after - before) * min(left, 1.0)),
            description="Proration for the change of plan or seats",
            paid=True,
        )
    return public(subscription)


@transaction.atomic
def cancel_subscription(subscription_id: str) -> dict[str, Any]:
    subscription = get(subscription_id, for_update=True)
    assert subscription is not None
    if subscription["status"] != "canceled":
        subscription.update(status="canceled", canceled_at=now(), cancel_at_period_end=False)
        save(subscription)
        emit("customer.subscription.deleted", subscription)
    return public(subscription)


@transaction.atomic
def set_subscription_status(subscription_id: str, status: str) -> dict[str, Any]:
    """Play what Stripe does when a renewal fails (``past_due``, later ``unpaid``) or the
    open invoice is paid (``active``): the status, an invoice and the events."""
    subscription = get(subscription_id, for_update=True)
    assert subscription is not None
    previous = subscription["status"]
    if previous == status:
        return public(subscription)
    item = subscription["items"]["data"][0]
    amount = item["price"]["unit_amount"] * item["quantity"]
    if status == "past_due":
        _invoice(subscription, amount=amount, description="Renewal (payment failed)", paid=False)
    elif status == "active" and previous == "trialing":
        # The trial ends: the first paid period starts now.
        item["current_period_start"] = now()
        item["current_period_end"] = now() + PERIOD_SECONDS
        subscription["trial_end"] = now()
        _invoice(subscription, amount=amount, description="Subscription renewal", paid=True)
    elif status == "active" and previous in {"past_due", "unpaid"}:
        for invoice in all("invoice", customer=subscription["customer"]):
            if invoice["status"] == "open":
                full = get(invoice["id"], for_update=True)
                assert full is not None
                full.update(status="paid", amount_paid=full["amount_due"])
                save(full)
                emit("invoice.paid", full)
        item["current_period_end"] = now() + PERIOD_SECONDS
    subscription["status"] = status
    save(subscription)
    emit("customer.subscription.updated", subscription)
    return public(subscription)


# --- metered usage ---------------------------------------------------------------------------


def create_meter_event(
    *,
    event_name: str,
    customer: str,
    payload: dict[str, Any],
    identifier: str,
    timestamp: int | None,
) -> dict[str, Any]:
    """A meter event; Stripe ignores a second event with the same identifier."""
    if identifier:
        existing = find("billing.meter_event", identifier=identifier)
        if existing is not None:
            return public(existing)
    return create(
        "billing.meter_event",
        {
            "event_name": event_name,
            "identifier": identifier or secrets.token_hex(12),
            "payload": payload,
            "timestamp": timestamp or now(),
        },
        customer=customer,
    )


def metered_units(customer: str, event_name: str) -> int:
    """Units reported for a customer (what the portal page and tests read)."""
    return sum(
        int(e["payload"]["value"])
        for e in all("billing.meter_event", customer=customer)
        if e["event_name"] == event_name
    )
