"""The local double's hosted pages: Checkout, customer portal, invoice, Connect onboarding.

Like Stripe's, they are reached by an unguessable session id. They exist so the demo can buy
a plan and seats or a marketplace listing, see invoices, cancel and onboard a seller for
payouts, with nothing external; the portal also plays a
failed renewal and its recovery, which Stripe does on its own schedule.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_http_methods

from billing.stripe_double import store


def _object(object_type: str, object_id: str) -> dict:
    found = store.get(object_id)
    if found is None or found["object"] != object_type:
        raise Http404("No such object")
    return found


@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest, session_id: str) -> HttpResponse:
    session = _object("checkout.session", session_id)
    if request.method == "POST" and session["status"] == "open":
        store.complete_checkout_session(session_id)
        return HttpResponseRedirect(session["success_url"])
    if session["mode"] == "payment":
        return _payment_checkout(request, session)
    items = _subscription_items(session)
    item = next(i for i in items if "quantity" in i)  # the per-seat item; metered have none
    price = item["price"]
    product = _object("product", price["product"])
    trial = int((session.get("_subscription_data") or {}).get("trial_period_days") or 0)
    context = {
        "session": session,
        "product": product,
        "quantity": item["quantity"],
        "unit": price["unit_amount"] / 100,
        "total": price["unit_amount"] * item["quantity"] / 100,
        "currency": price["currency"].upper(),
        "trial_days": trial,
        "customer": _object("customer", session["customer"]),
        "metered": [i["price"] for i in items if "quantity" not in i],
    }
    return TemplateResponse(request, "stripe_double/checkout.html", context)


def _subscription_items(session: dict) -> list[dict]:
    return [
        {
            "price": _object("price", i["price"]),
            **({"quantity": i["quantity"]} if "quantity" in i else {}),
        }
        for i in session["_line_items"]
    ]


def _payment_checkout(request: HttpRequest, session: dict) -> HttpResponse:
    """A one-off payment: its items, the total and, for a destination charge, the split."""
    data = session["_payment_intent_data"]
    context = {
        "session": session,
        "items": [
            {
                **item,
                "unit": item["unit_amount"] / 100,
                "total": item["unit_amount"] * item["quantity"] / 100,
            }
            for item in session["_line_items"]
        ],
        "total": session["amount_total"] / 100,
        "currency": session["currency"].upper(),
        "destination": data["destination"],
        "fee": data["application_fee_amount"] / 100,
    }
    return TemplateResponse(request, "stripe_double/payment.html", context)


@require_http_methods(["GET", "POST"])
def onboarding(request: HttpRequest, link_id: str) -> HttpResponse:
    """Stripe's Express onboarding, reduced to one button; a spent or expired link sends the
    seller to the link's refresh URL, as Stripe does."""
    link = _object("account_link", link_id)
    if link["_used"] or link["expires_at"] < store.now():
        return HttpResponseRedirect(link["_refresh_url"])
    if request.method == "POST":
        store.complete_onboarding(link_id)
        return HttpResponseRedirect(link["_return_url"])
    account = _object("account", link["account"])
    return TemplateResponse(
        request, "stripe_double/onboarding.html", {"link": link, "account": account}
    )


@require_http_methods(["GET", "POST"])
def portal(request: HttpRequest, session_id: str) -> HttpResponse:
    session = _object("billing_portal.session", session_id)
    customer = session["customer"]
    subscriptions = store.all("subscription", customer=customer)
    live = next((s for s in reversed(subscriptions) if s["status"] != "canceled"), None)
    if request.method == "POST" and live is not None:
        action = request.POST.get("action")
        if action == "cancel":
            store.cancel_subscription(live["id"])
        elif action == "fail_renewal":
            store.set_subscription_status(live["id"], "past_due")
        elif action == "pay":
            store.set_subscription_status(live["id"], "active")
        return HttpResponseRedirect(request.path)
    invoices = store.all("invoice", customer=customer)
    context = {
        "session": session,
        "customer": _object("customer", customer),
        "subscription": live,
        "invoices": list(reversed(invoices)),
    }
    return TemplateResponse(request, "stripe_double/portal.html", context)


def invoice(request: HttpRequest, invoice_id: str) -> HttpResponse:
    found = _object("invoice", invoice_id)
    return TemplateResponse(request, "stripe_double/invoice.html", {"invoice": found})
