"""Webhook delivery of the local double: signed like Stripe, sent after commit by a task.

The signature is computed here with the standard library (not with Stripe's client), so the
app's verification is checked against an independent implementation of Stripe's scheme:
``Stripe-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

Where a webhook goes is a *deliverer*: ``deliverer(url, body, headers) -> HTTP status``. The
default hands the request to the app's webhook handling in-process (so the double works with
no server running: management commands, the demo seed, a worker); with
``VIVA_STRIPE_DOUBLE_WEBHOOK_URL`` set, it is POSTed over HTTP. Tests swap it with
``use_deliverer`` to go through the webhook view with Django's test client.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.conf import settings
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, schema_context

logger = logging.getLogger(__name__)

Deliverer = Callable[[str, bytes, dict[str, str]], int]
WEBHOOK_PATH = "/billing/stripe/webhook/"


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def in_process(url: str, body: bytes, headers: dict[str, str]) -> int:
    from billing.gateway import SignatureError
    from billing.webhooks import ProcessingError, receive_webhook

    try:
        receive_webhook(payload=body, signature=headers.get("Stripe-Signature"))
    except SignatureError:
        return 400
    except ProcessingError:
        return 500
    return 200


def over_http(url: str, body: bytes, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        logger.warning("Stripe double: %s unreachable", url)
        return 0


def _webhook_url() -> str:
    return getattr(settings, "VIVA_STRIPE_DOUBLE_WEBHOOK_URL", None) or os.environ.get(
        "VIVA_STRIPE_DOUBLE_WEBHOOK_URL", ""
    )


_override: list[Deliverer] = []


def current_deliverer() -> Deliverer:
    if _override:
        return _override[-1]
    return over_http if _webhook_url() else in_process


@contextmanager
def use_deliverer(deliverer: Deliverer) -> Iterator[None]:
    """Send the double's webhooks through ``deliverer`` for the duration (tests)."""
    _override.append(deliverer)
    try:
        yield
    finally:
        _override.remove(deliverer)


def enqueue(event_id: str) -> None:
    from billing.tasks import deliver_double_event

    with schema_context(get_public_schema_name()):
        deliver_double_event.delay(event_id)


def deliver(event_id: str) -> int:
    """Sign and send one event; returns the HTTP status the app answered."""
    from billing.gateway import webhook_secret
    from billing.stripe_double import store
    from billing.stripe_double.models import DoubleObject

    with schema_context(get_public_schema_name()):
        event = store.get(event_id)
        if event is None:
            return 404
        body = json.dumps(store.public(event)).encode()
        headers = {
            "Content-Type": "application/json",
            "Stripe-Signature": sign(body, webhook_secret()),
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) viva-double",
        }
        status = current_deliverer()(_webhook_url() or WEBHOOK_PATH, body, headers)
    with schema_context(get_public_schema_name()):
        if 200 <= status < 300:
            DoubleObject.objects.filter(id=event_id).update(delivered_at=timezone.now())
    return status
