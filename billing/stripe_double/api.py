"""The part of Stripe's HTTP API that ``billing.gateway`` uses, served by the local double.

Requests are form-encoded the way Stripe's clients send them (``line_items[0][price]=...``);
answers are Stripe-shaped JSON (``id``, ``object``, lists as ``{"object": "list", ...}``,
errors as ``{"error": {...}}``). ``dispatch`` answers a request in-process (the gateway's HTTP
client for the double); ``api_view`` answers the same requests over HTTP at ``/_stripe/v1/``.
A POST with an ``Idempotency-Key`` is answered once and replayed on repeats.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django_tenants.utils import get_public_schema_name, schema_context

from billing.stripe_double import store
from billing.stripe_double.models import DoubleIdempotencyKey

KEY_LIFETIME = timedelta(hours=24)


class ApiError(Exception):
    def __init__(self, status: int, message: str, *, param: str = "", code: str = ""):
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


# --- Stripe's form encoding ------------------------------------------------------------------


def parse_form(body: str) -> dict[str, Any]:
    """``a[b][0][c]=1`` → ``{"a": {"b": [{"c": "1"}]}}`` (Stripe's nested form encoding)."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+|\[\]", key)
        _assign(result, parts, value)
    return _lists(result)


def _assign(target: dict[str, Any], parts: list[str], value: str) -> None:
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "[]":  # lookup_keys[]=a&lookup_keys[]=b
            part = str(len(target))
        if last:
            target[part] = value
        else:
            target = target.setdefault(part, {})


def _lists(value: Any) -> Any:
    """Dicts whose keys are 0..n-1 become lists."""
    if not isinstance(value, dict):
        return value
    converted = {k: _lists(v) for k, v in value.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


# --- routing ---------------------------------------------------------------------------------

Handler = Callable[..., tuple[int, dict[str, Any]]]
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def route(method: str, pattern: str):
    def register(fn: Handler) -> Handler:
        ROUTES.append((method, re.compile(f"^{pattern}$"), fn))
        return fn

    return register


def handle(
    *, method: str, path: str, params: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """Answer one API request; every write of it is one transaction (or none)."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    if not auth.startswith("Bearer sk_"):
        return 401, _error(401, "Invalid API Key provided.", type_="authentication_error")
    key = headers.get("Idempotency-Key") or headers.get("idempotency-key") or ""
    with schema_context(get_public_schema_name()):
        if method == "POST" and key:
            # Stripe keeps keys for 24 hours.
            DoubleIdempotencyKey.objects.filter(created__lt=timezone.now() - KEY_LIFETIME).delete()
            stored = DoubleIdempotencyKey.objects.filter(key=key).first()
            if stored is not None:
                if stored.path != path:
                    return 400, _error(
                        400,
                        "Keys for idempotent requests can only be reused with the same parameters.",
                        code="idempotency_error",
                    )
                return stored.status, json.loads(stored.body)
        status, body = _route(method, path, params)
        if method == "POST" and key and status < 500:
            try:
                with transaction.atomic():
                    DoubleIdempotencyKey.objects.create(
                        key=key, path=path, status=status, body=json.dumps(body)
                    )
            except IntegrityError:  # a concurrent twin won; answer as it did
                stored = DoubleIdempotencyKey.objects.get(key=key)
                return stored.status, json.loads(stored.body)
        return status, body


def _route(method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    for route_method, pattern, fn in ROUTES:
        match = pattern.match(path)
        if match and route_method == method:
            try:
                with transaction.atomic():
                    return 200, fn(params, **match.groupdict())
            except ApiError as exc:
                return exc.status, _error(exc.status, exc.message, param=exc.param, code=exc.code)
    return 404, _error(404, f"Unrecognized request URL ({method}: {path}).")


def _error(
    status: int, message: str, *, type_: str = "invalid_request_error", param="", code=""
) -> dict[str, Any]:
    error: dict[str, Any] = {"type": type_, "message": message}
    if param:
        error["param"] = param
    if code:
        error["code"] = code
    if status == 404 and not code:
        error["code"] = "resource_missing"
    return {"error": error}


def _api_path(url_path: str) -> str:
    index = url_path.find("/v1/")
    return url_path[index:] if index >= 0 else url_path


def dispatch(
    *, method: str, url: str, headers: dict[str, str], body: bytes
) -> tuple[int, bytes, dict[str, str]]:
    """Answer a request of Stripe's client in-process (used by the gateway's HTTP client)."""
    parts = urlsplit(url)
    params = parse_form(parts.query)
    if body:
        params.update(parse_form(body.decode()))
    status, answer = handle(
        method=method, path=_api_path(parts.path), params=params, headers=headers
    )
    return status, json.dumps(answer).encode(), {"Content-Type": "application/json"}


@csrf_exempt
def api_view(request: HttpRequest, path: str) -> HttpResponse:
    """The same API over HTTP, at ``/_stripe/v1/<path>``."""
    params = parse_form(request.META.get("QUERY_STRING", ""))
    if request.body:
        params.update(parse_form(request.body.decode()))
    headers = {
        "Authorization": request.headers.get("Authorization", ""),
        "Idempotency-Key": request.headers.get("Idempotency-Key", ""),
    }
    status, answer = handle(
        method=request.method or "GET", path=f"/v1/{path}", params=params, headers=headers
    )
    return HttpResponse(json.dumps(answer), status=status, content_type="application/json")


# --- resources -------------------------------------------------------------------------------


def _need(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value in (None, ""):
        raise ApiError(400, f"Missing required param: {name}.", param=name)
    return value


def _get(object_type: str, object_id: str) -> dict[str, Any]:
    found = store.get(object_id)
    if found is None or found["object"] != object_type:
        raise ApiError(404, f"No such {object_type.split('.')[-1]}: '{object_id}'")
    return found


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Invalid integer: {value}", param=name) from None


@route("POST", "/v1/customers")
def create_customer(params):
    return store.create(
        "customer",
        {
            "name": params.get("name", ""),
            "email": params.get("email", ""),
            "metadata": params.get("metadata") or {},
        },
    )


@route("GET", "/v1/customers/(?P<object_id>[^/]+)")
def retrieve_customer(params, object_id):
    return _get("customer", object_id)


@route("POST", "/v1/products")
def create_product(params):
    return store.create("product", {"name": _need(params, "name"), "active": True})


@route("POST", "/v1/prices")
def create_price(params):
    _get("product", _need(params, "product"))
    recurring = params.get("recurring") or {}
    usage_type = recurring.get("usage_type", "licensed")
    meter = recurring.get("meter") or None
    if usage_type == "metered":
        if not meter:
            raise ApiError(
                400, "Metered prices must be backed by a meter.", param="recurring[meter]"
            )
        _get("billing.meter", meter)
    elif meter:
        raise ApiError(400, "Only metered prices take a meter.", param="recurring[meter]")
    lookup_key = params.get("lookup_key") or None
    if lookup_key and store.find("price", lookup_key=lookup_key):
        raise ApiError(400, f"A price with lookup_key {lookup_key} already exists.")
    return store.create(
        "price",
        {
            "product": params["product"],
            **_amounts(params),
            "currency": _need(params, "currency"),
            "recurring": {
                "interval": recurring.get("interval", "month"),
                "usage_type": usage_type,
                "meter": meter,
            },
            "type": "recurring",
            "active": True,
            "lookup_key": lookup_key,
        },
    )


def _amounts(params: dict[str, Any]) -> dict[str, Any]:
    """``unit_amount`` (whole minor units) or ``unit_amount_decimal`` (fractions allowed)."""
    if params.get("unit_amount_decimal") not in (None, ""):
        try:
            decimal = Decimal(params["unit_amount_decimal"])
        except InvalidOperation:
            raise ApiError(400, "Invalid decimal.", param="unit_amount_decimal") from None
        if decimal < 0:
            raise ApiError(400, "The amount must not be negative.", param="unit_amount_decimal")
        whole = decimal == decimal.to_integral_value()
        return {"unit_amount": int(decimal) if whole else None, "unit_amount_decimal": str(decimal)}
    amount = _int(_need(params, "unit_amount"), "unit_amount")
    return {"unit_amount": amount, "unit_amount_decimal": str(amount)}


@route("GET", "/v1/prices")
def list_prices(params):
    keys = params.get("lookup_keys") or []
    keys = keys if isinstance(keys, list) else [keys]
    prices = [p for p in store.all("price") if not keys or p.get("lookup_key") in keys]
    return store.as_list(prices, "/v1/prices", params)


@route("GET", "/v1/prices/(?P<object_id>[^/]+)")
def retrieve_price(params, object_id):
    return _get("price", object_id)


@route("POST", "/v1/checkout/sessions")
def create_checkout_session(params):
    mode = params.get("mode")
    if mode == "payment":
        return _create_payment_session(params)
    if mode != "subscription":
        raise ApiError(400, "mode must be payment or subscription.", param="mode")
    customer = _get("customer", _need(params, "customer"))
    line_items = []
    for i, item in enumerate(_line_items(params)):
        price = _get("price", item.get("price", ""))
        if price["recurring"]["usage_type"] == "metered":
            if "quantity" in item:
                raise ApiError(
                    400,
                    "Quantity should not be specified where usage_type is `metered`.",
                    param=f"line_items[{i}][quantity]",
                )
            line_items.append({"price": item["price"]})
        else:
            line_items.append({"price": item["price"], "quantity": _quantity(item, i)})
    if sum(1 for item in line_items if "quantity" in item) != 1:
        raise ApiError(400, "The local double sells one per-seat price per subscription.")
    return store.create_checkout_session(
        customer=customer["id"],
        line_items=line_items,
        success_url=_need(params, "success_url"),
        cancel_url=_need(params, "cancel_url"),
        metadata=params.get("metadata") or {},
        client_reference_id=params.get("client_reference_id") or None,
        subscription_data=params.get("subscription_data") or {},
    )


def _line_items(params: dict[str, Any]) -> list[dict[str, Any]]:
    items = params.get("line_items") or []
    if not items:
        raise ApiError(400, "Missing required param: line_items.", param="line_items")
    return items


def _quantity(item: dict[str, Any], index: int) -> int:
    quantity = _int(item.get("quantity", 1), f"line_items[{index}][quantity]")
    if quantity < 1:
        raise ApiError(400, "Quantity must be at least 1.", param=f"line_items[{index}][quantity]")
    return quantity


def _create_payment_session(params: dict[str, Any]) -> dict[str, Any]:
    """Checkout in payment mode: one-off line items given as ``price_data``; a destination
    charge when ``payment_intent_data[transfer_data][destination]`` names an account."""
    line_items = []
    for i, item in enumerate(_line_items(params)):
        data = item.get("price_data") or {}
        name = (data.get("product_data") or {}).get("name")
        if not name:
            raise ApiError(400, "Missing product_data name.", param=f"line_items[{i}][price_data]")
        amount = _int(_need(data, "unit_amount"), f"line_items[{i}][price_data][unit_amount]")
        if amount < 1:
            raise ApiError(400, "unit_amount must be positive.", param=f"line_items[{i}]")
        line_items.append(
            {
                "name": name,
                "unit_amount": amount,
                "currency": _need(data, "currency").lower(),
                "quantity": _quantity(item, i),
            }
        )
    if len({item["currency"] for item in line_items}) != 1:
        raise ApiError(400, "All line items must have the same currency.", param="line_items")
    intent = params.get("payment_intent_data") or {}
    destination = (intent.get("transfer_data") or {}).get("destination") or None
    fee = intent.get("application_fee_amount")
    total = sum(item["unit_amount"] * item["quantity"] for item in line_items)
    if fee not in (None, ""):
        if not destination:
            raise ApiError(
                400,
                "application_fee_amount needs payment_intent_data[transfer_data][destination].",
                param="payment_intent_data[application_fee_amount]",
            )
        fee = _int(fee, "payment_intent_data[application_fee_amount]")
        if not 0 <= fee <= total:
            raise ApiError(400, "The application fee must be between 0 and the total.")
    if destination:
        _payable_account(destination, param="payment_intent_data[transfer_data][destination]")
    customer = params.get("customer") or None
    if customer:
        _get("customer", customer)
    return store.create_payment_session(
        customer=customer,
        line_items=line_items,
        amount_total=total,
        application_fee_amount=fee or 0,
        destination=destination,
        success_url=_need(params, "success_url"),
        cancel_url=_need(params, "cancel_url"),
        metadata=params.get("metadata") or {},
        intent_metadata=intent.get("metadata") or {},
        client_reference_id=params.get("client_reference_id") or None,
    )


def _payable_account(account_id: str, *, param: str) -> dict[str, Any]:
    account = _get("account", account_id)
    if account["capabilities"].get("transfers") != "active":
        raise ApiError(
            400,
            "Your destination account needs to have the transfers capability enabled.",
            param=param,
        )
    return account


@route("GET", "/v1/checkout/sessions/(?P<object_id>[^/]+)")
def retrieve_checkout_session(params, object_id):
    return store.public(_get("checkout.session", object_id))


@route("POST", "/v1/billing_portal/sessions")
def create_portal_session(params):
    customer = _get("customer", _need(params, "customer"))
    return store.create_portal_session(
        customer=customer["id"], return_url=params.get("return_url", "")
    )


@route("GET", "/v1/subscriptions/(?P<object_id>[^/]+)")
def retrieve_subscription(params, object_id):
    return _get("subscription", object_id)


@route("POST", "/v1/subscriptions/(?P<object_id>[^/]+)")
def update_subscription(params, object_id):
    subscription = _get("subscription", object_id)
    if subscription["status"] == "canceled":
        raise ApiError(400, "A canceled subscription can't be updated.")
    seat_item = store.seat_item(subscription)
    known = {item["id"] for item in subscription["items"]["data"]}
    price_id = quantity = None
    added = []
    for i, item in enumerate(params.get("items") or []):
        if item.get("price"):
            price = _get("price", item["price"])
        if not item.get("id"):
            if not item.get("price") or price["recurring"]["usage_type"] != "metered":
                raise ApiError(400, "The local double adds metered items only.", param="items")
            added.append(item["price"])
        elif item["id"] not in known:
            raise ApiError(404, f"No such subscription item: '{item['id']}'", param="items")
        elif item["id"] == seat_item["id"]:
            price_id = item.get("price") or None
            if "quantity" in item:
                quantity = _int(item["quantity"], f"items[{i}][quantity]")
    cancel_at_period_end = params.get("cancel_at_period_end")
    return store.update_subscription(
        object_id,
        price_id=price_id,
        quantity=quantity,
        add_prices=added,
        cancel_at_period_end=None
        if cancel_at_period_end is None
        else cancel_at_period_end == "true",
        prorate=params.get("proration_behavior", "create_prorations") != "none",
    )


@route("DELETE", "/v1/subscriptions/(?P<object_id>[^/]+)")
def cancel_subscription(params, object_id):
    _get("subscription", object_id)
    return store.cancel_subscription(object_id)


@route("GET", "/v1/invoices")
def list_invoices(params):
    customer = params.get("customer")
    invoices = store.all("invoice", customer=customer or None)
    invoices.reverse()  # newest first, as Stripe lists them
    return store.as_list(invoices, "/v1/invoices", params)


@route("GET", "/v1/invoices/(?P<object_id>[^/]+)")
def retrieve_invoice(params, object_id):
    return _get("invoice", object_id)


@route("POST", "/v1/billing/meter_events")
def create_meter_event(params):
    payload = params.get("payload") or {}
    customer = _get("customer", payload.get("stripe_customer_id", ""))
    _int(_need(payload, "value"), "payload[value]")
    return store.create_meter_event(
        event_name=_need(params, "event_name"),
        customer=customer["id"],
        payload=payload,
        identifier=params.get("identifier") or "",
        timestamp=_int(params.get("timestamp") or 0, "timestamp") or None,
    )


@route("POST", "/v1/billing/meters")
def create_meter(params):
    event_name = _need(params, "event_name")
    formula = (params.get("default_aggregation") or {}).get("formula")
    if formula not in {"sum", "count", "last"}:
        raise ApiError(400, "Invalid default_aggregation[formula].", param="default_aggregation")
    if store.find("billing.meter", event_name=event_name, status="active"):
        raise ApiError(400, f"An active meter with event_name `{event_name}` already exists.")
    return store.create(
        "billing.meter",
        {
            "display_name": _need(params, "display_name"),
            "event_name": event_name,
            "default_aggregation": {"formula": formula},
            "customer_mapping": params.get("customer_mapping")
            or {"type": "by_id", "event_payload_key": "stripe_customer_id"},
            "value_settings": params.get("value_settings") or {"event_payload_key": "value"},
            "status": "active",
        },
    )


@route("GET", "/v1/billing/meters")
def list_meters(params):
    status = params.get("status")
    meters = [m for m in store.all("billing.meter") if not status or m["status"] == status]
    return store.as_list(meters, "/v1/billing/meters", params)


@route("GET", "/v1/billing/meters/(?P<object_id>[^/]+)")
def retrieve_meter(params, object_id):
    return _get("billing.meter", object_id)


@route("GET", "/v1/payment_intents/(?P<object_id>[^/]+)")
def retrieve_payment_intent(params, object_id):
    return _get("payment_intent", object_id)


@route("POST", "/v1/accounts")
def create_account(params):
    if params.get("type") != "express":
        raise ApiError(400, "The local double creates Express accounts only.", param="type")
    requested = [
        name
        for name, value in (params.get("capabilities") or {}).items()
        if (value or {}).get("requested") == "true"
    ]
    return store.create_account(
        email=params.get("email", ""),
        business_name=(params.get("business_profile") or {}).get("name", ""),
        capabilities=requested,
        metadata=params.get("metadata") or {},
    )


@route("GET", "/v1/accounts/(?P<object_id>[^/]+)")
def retrieve_account(params, object_id):
    return _get("account", object_id)


@route("POST", "/v1/account_links")
def create_account_link(params):
    account = _get("account", _need(params, "account"))
    if params.get("type") not in {"account_onboarding", "account_update"}:
        raise ApiError(400, "type must be account_onboarding or account_update.", param="type")
    return store.create_account_link(
        account=account["id"],
        refresh_url=_need(params, "refresh_url"),
        return_url=_need(params, "return_url"),
    )


@route("POST", "/v1/transfers")
def create_transfer(params):
    amount = _int(_need(params, "amount"), "amount")
    if amount < 1:
        raise ApiError(400, "This value must be greater than or equal to 1.", param="amount")
    account = _payable_account(_need(params, "destination"), param="destination")
    return store.create_transfer(
        amount=amount,
        currency=_need(params, "currency").lower(),
        destination=account["id"],
        transfer_group=params.get("transfer_group") or None,
        source="platform_balance",
    )


@route("GET", "/v1/transfers")
def list_transfers(params):
    transfers = [
        t
        for t in store.all("transfer")
        if all(
            t.get(name) == params[name]
            for name in ("destination", "transfer_group")
            if params.get(name)
        )
    ]
    return store.as_list(transfers, "/v1/transfers", params)


@route("GET", "/v1/events/(?P<object_id>[^/]+)")
def retrieve_event(params, object_id):
    return _get("event", object_id)
