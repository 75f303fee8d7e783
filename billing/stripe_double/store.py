"""What the local Stripe double does: its objects, their life cycle, and its events.

Each change that Stripe would announce creates an ``event`` object whose webhook is delivered
after the transaction commits (``billing.stripe_double.delivery``). Keys starting with ``_``
are the double's own bookkeeping and never leave it (``public``).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
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
    "billing.meter": "mtr",
    "billing.meter_event": "mtrevt",
    "payment_intent": "pi",
    "account": "acct",
    "account_link": "acctlink",
    "transfer": "tr",
    "event": "evt",
}
ACCOUNT_LINK_SECONDS = 300
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


def create_payment_session(
    *,
    customer: str | None,
    line_items: list[dict[str, Any]],
    amount_total: int,
    application_fee_amount: int,
    destination: str | None,
    success_url: str,
    cancel_url: str,
    metadata: dict[str, str],
    intent_metadata: dict[str, str],
    client_reference_id: str | None,
) -> dict[str, Any]:
    """A one-off payment (``mode=payment``); its PaymentIntent exists once it is paid."""
    session_id = new_id("checkout.session")
    return create(
        "checkout.session",
        {
            "mode": "payment",
            "customer": customer,
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": amount_total,
            "currency": line_items[0]["currency"],
            "url": f"{base_url()}/checkout/{session_id}/",
            "success_url": success_url.replace("{CHECKOUT_SESSION_ID}", session_id),
            "cancel_url": cancel_url,
            "metadata": metadata,
            "client_reference_id": client_reference_id,
            "payment_intent": None,
            "subscription": None,
            "_line_items": line_items,
            "_payment_intent_data": {
                "application_fee_amount": application_fee_amount,
                "destination": destination,
                "metadata": intent_metadata,
            },
        },
        object_id=session_id,
    )


@transaction.atomic
def complete_checkout_session(session_id: str) -> dict[str, Any]:
    """What paying on the hosted Checkout page does: a subscription and its first invoice
    (subscription mode) or a PaymentIntent (payment mode), and the events."""
    session = get(session_id, for_update=True)
    if session is None or session["object"] != "checkout.session":
        raise LookupError(session_id)
    if session["status"] != "open":
        return public(session)
    if session["mode"] == "payment":
        intent = _pay(session)
        session.update(status="complete", payment_status="paid", payment_intent=intent["id"])
    else:
        data = session.get("_subscription_data") or {}
        subscription = _create_subscription(
            customer=session["customer"],
            line_items=session["_line_items"],
            trial_days=int(data.get("trial_period_days") or 0),
            metadata=data.get("metadata") or {},
        )
        session.update(status="complete", payment_status="paid", subscription=subscription["id"])
    save(session)
    emit("checkout.session.completed", session)
    return public(session)


def _pay(session: dict[str, Any]) -> dict[str, Any]:
    """The succeeded PaymentIntent of a payment session; for a destination charge, Stripe's
    automatic transfer of the amount less the application fee to the connected account."""
    data = session["_payment_intent_data"]
    amount = session["amount_total"]
    destination = data["destination"]
    intent = create(
        "payment_intent",
        {
            "amount": amount,
            "amount_received": amount,
            "currency": session["currency"],
            "status": "succeeded",
            "customer": session["customer"],
            "application_fee_amount": data["application_fee_amount"] if destination else None,
            "transfer_data": {"destination": destination} if destination else None,
            "transfer_group": None,
            "metadata": data["metadata"],
        },
    )
    if destination:
        transfer = create_transfer(
            amount=amount - data["application_fee_amount"],
            currency=session["currency"],
            destination=destination,
            transfer_group=f"group_{intent['id']}",
            source=intent["id"],
        )
        intent["transfer_group"] = transfer["transfer_group"]
        save(intent)
    emit("payment_intent.succeeded", intent)
    return intent


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


def _is_metered(price: dict[str, Any]) -> bool:
    return price["recurring"]["usage_type"] == "metered"


def seat_item(subscription: dict[str, Any]) -> dict[str, Any]:
    """The per-seat (licensed) item; metered items carry no quantity and bill usage."""
    return next(i for i in subscription["items"]["data"] if not _is_metered(i["price"]))


def _item(
    subscription_id: str, price_id: str, quantity: int | None, start: int, end: int
) -> dict[str, Any]:
    price = _price(price_id)
    item = {
        "id": new_id("subscription_item"),
        "object": "subscription_item",
        "price": price,
        "current_period_start": start,
        "current_period_end": end,
        "subscription": subscription_id,
    }
    if not _is_metered(price):  # Stripe ignores quantity for metered prices
        item["quantity"] = quantity
    return item


def _create_subscription(
    *,
    customer: str,
    line_items: list[dict[str, Any]],
    trial_days: int,
    metadata: dict[str, str],
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
                    _item(subscription_id, i["price"], i.get("quantity"), start, period_end)
                    for i in line_items
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
    seats = seat_item(subscription)
    amount = 0 if trial_days else seats["price"]["unit_amount"] * seats["quantity"]
    invoice = _invoice(subscription, amount=amount, description="Subscription creation", paid=True)
    subscription["latest_invoice"] = invoice["id"]
    return save(subscription)


def _invoice(
    subscription: dict[str, Any], *, amount: int, description: str, paid: bool
) -> dict[str, Any]:
    customer = subscription["customer"]
    count = DoubleObject.objects.filter(object="invoice", customer=customer).count()
    item = seat_item(subscription)
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
    add_prices: Sequence[str] = (),
    cancel_at_period_end: bool | None = None,
    prorate: bool = True,
) -> dict[str, Any]:
    """Change the per-seat item's price and/or quantity, add metered items, prorate."""
    subscription = get(subscription_id, for_update=True)
    assert subscription is not None
    item = seat_item(subscription)
    priced = {i["price"]["id"] for i in subscription["items"]["data"]}
    for added in add_prices:
        if added in priced:
            continue  # Stripe refuses a second item of one price; asking again changes nothing
        subscription["items"]["data"].append(
            _item(
                subscription_id,
                added,
                None,
                item["current_period_start"],
                item["current_period_end"],
            )
        )
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
    item = seat_item(subscription)
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


# --- Connect ---------------------------------------------------------------------------------


def create_account(
    *, email: str, business_name: str, capabilities: list[str], metadata: dict[str, str]
) -> dict[str, Any]:
    """An Express account that cannot be paid yet: onboarding (``complete_onboarding``)
    activates its capabilities."""
    return create(
        "account",
        {
            "type": "express",
            "email": email,
            "business_profile": {"name": business_name},
            "capabilities": {name: "inactive" for name in capabilities},
            "charges_enabled": False,
            "payouts_enabled": False,
            "details_submitted": False,
            "metadata": metadata,
        },
    )


def create_account_link(*, account: str, refresh_url: str, return_url: str) -> dict[str, Any]:
    link_id = new_id("account_link")
    return create(
        "account_link",
        {
            "account": account,
            "expires_at": now() + ACCOUNT_LINK_SECONDS,
            "url": f"{base_url()}/connect/onboarding/{link_id}/",
            "_refresh_url": refresh_url,
            "_return_url": return_url,
            "_used": False,
        },
        object_id=link_id,
    )


@transaction.atomic
def complete_onboarding(link_id: str) -> dict[str, Any]:
    """What finishing Stripe's onboarding does: the account can take charges and be paid out;
    the link is spent. Returns the link (with its return URL)."""
    link = get(link_id, for_update=True)
    assert link is not None and link["object"] == "account_link", link_id
    account = get(link["account"], for_update=True)
    assert account is not None
    account.update(
        charges_enabled=True,
        payouts_enabled=True,
        details_submitted=True,
        capabilities={name: "active" for name in account["capabilities"]},
    )
    save(account)
    emit("account.updated", account)
    link["_used"] = True
    save(link)
    return link


def create_transfer(
    *, amount: int, currency: str, destination: str, transfer_group: str | None, source: str
) -> dict[str, Any]:
    """Money moved to a connected account (from the platform's balance, or a destination
    charge's automatic transfer, whose ``source`` is the PaymentIntent)."""
    transfer = create(
        "transfer",
        {
            "amount": amount,
            "currency": currency,
            "destination": destination,
            "transfer_group": transfer_group,
            "reversed": False,
            "_source": source,
        },
    )
    emit("transfer.created", transfer)
    return transfer


def balance_of(account: str) -> int:
    """What the double has transferred to a connected account (tests and its pages read it)."""
    return sum(t["amount"] for t in all("transfer") if t["destination"] == account)
