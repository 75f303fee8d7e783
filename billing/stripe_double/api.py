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
    lookup_key = params.get("lookup_key") or None
    if lookup_key and store.find("price", lookup_key=lookup_key):
        raise ApiError(400, f"A price with lookup_key {lookup_key} already exists.")
    return store.create(
        "price",
        {
            "product": params["product"],
            "unit_amount": _int(_need(params, "unit_amount"), "unit_amount"),
            "currency": _need(params, "currency"),
            "recurring": {
                "interval": recurring.get("interval", "month"),
                "usage_type": recurring.get("usage_type", "licensed"),
            },
            "type": "recurring",
            "active": True,
            "lookup_key": lookup_key,
        },
    )


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
    if params.get("mode") != "subscription":
        raise ApiError(400, "The local double supports mode=subscription only.", param="mode")
    customer = _get("customer", _need(params, "customer"))
    items = params.get("line_items") or []
    if not items:
        raise ApiError(400, "Missing required param: line_items.", param="line_items")
    line_items = []
    for i, item in enumerate(items):
        _get("price", item.get("price", ""))
        quantity = _int(item.get("quantity", 1), f"line_items[{i}][quantity]")
        if quantity < 1:
            raise ApiError(400, "Quantity must be at least 1.", param=f"line_items[{i}][quantity]")
        line_items.append({"price": item["price"], "quantity": quantity})
    return store.create_checkout_session(
        customer=customer["id"],
        line_items=line_items,
        success_url=_need(params, "success_url"),
        cancel_url=_need(params, "cancel_url"),
        metadata=params.get("metadata") or {},
        client_reference_id=params.get("client_reference_id") or None,
        subscription_data=params.get("subscription_data") or {},
    )


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
    items = params.get("items") or []
    price_id = quantity = None
    if items:
        price_id = items[0].get("price")
        if price_id:
            _get("price", price_id)
        if "quantity" in items[0]:
            quantity = _int(items[0]["quantity"], "items[0][quantity]")
    cancel_at_period_end = params.get("cancel_at_period_end")
    return store.update_subscription(
        object_id,
        price_id=price_id,
        quantity=quantity,
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


@route("GET", "/v1/events/(?P<object_id>[^/]+)")
def retrieve_event(params, object_id):
    return _get("event", object_id)
