"""Billing pages: the Stripe webhook (platform host) and the tenant admin's billing page."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from billing import gateway, selectors, services, webhooks
from billing.models import Plan
from billing.seats import seat_usage
from tenants.access.permissions import has_role
from tenants.access.services import release_candidate_seat

# --- webhook (platform host) -----------------------------------------------------------------


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    """Stripe's deliveries. 400: not from Stripe (nothing stored); 500: retry later."""
    try:
        webhooks.receive_webhook(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except gateway.SignatureError:
        return HttpResponse("invalid signature", status=400, content_type="text/plain")
    except webhooks.ProcessingError:
        return HttpResponse("processing failed", status=500, content_type="text/plain")
    except gateway.GatewayError as exc:  # not configured: say so, Stripe retries later
        return HttpResponse(str(exc), status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


# --- tenant admin: /cms/billing/ -------------------------------------------------------------


def _require_tenant_admin(request: HttpRequest) -> None:
    if not has_role(request.user, "admin"):
        raise Http404("Not found")


class PlanForm(forms.Form):
    plan = forms.ModelChoiceField(
        queryset=Plan.objects.exclude(code="free"), to_field_name="code", empty_label=None
    )
    seats = forms.IntegerField(min_value=1, max_value=100_000, label="Seats")


def overview(request: HttpRequest) -> HttpResponse:
    _require_tenant_admin(request)
    tenant = request.tenant
    session_id = request.GET.get("session_id", "")
    if session_id:
        if services.finish_checkout(tenant=tenant, session_id=session_id):
            messages.success(request, "Thank you: your subscription is active.")
        return redirect("billing_overview")
    page = selectors.billing_page(tenant=tenant)
    initial = {"plan": page.plan.code if not page.plan.is_free else "starter"}
    initial["seats"] = max(page.seats.limit or 0, page.seats.used or 0, 1)
    context = {"page": page, "form": PlanForm(initial=initial)}
    return TemplateResponse(request, "billing/admin/overview.html", context)


@require_POST
def change_plan(request: HttpRequest) -> HttpResponse:
    _require_tenant_admin(request)
    form = PlanForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a plan and a number of seats.")
        return redirect("billing_overview")
    back = request.build_absolute_uri(reverse("billing_overview"))
    try:
        change = services.choose_plan(
            tenant=request.tenant,
            plan=form.cleaned_data["plan"],
            seats=form.cleaned_data["seats"],
            email=request.user.email,
            success_url=f"{back}?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=back,
        )
    except (services.BillingError, gateway.GatewayError) as exc:
        messages.error(request, str(exc))
        return redirect("billing_overview")
    if change.checkout_url:
        return HttpResponseRedirect(change.checkout_url)
    messages.success(request, "Your plan was changed; the difference is prorated.")
    return redirect("billing_overview")


@require_POST
def customer_portal(request: HttpRequest) -> HttpResponse:
    _require_tenant_admin(request)
    back = request.build_absolute_uri(reverse("billing_overview"))
    try:
        url = services.portal_url(tenant=request.tenant, return_url=back)
    except (services.BillingError, gateway.GatewayError) as exc:
        messages.error(request, str(exc))
        return redirect("billing_overview")
    return HttpResponseRedirect(url)


# --- tenant admin: /cms/billing/seats/ -------------------------------------------------------


def seats(request: HttpRequest) -> HttpResponse:
    """Seats bought, used and left, and who holds them (searchable by email)."""
    _require_tenant_admin(request)
    search = request.GET.get("q", "")
    usage = seat_usage(tenant=request.tenant, search=search, page=request.GET.get("p"))
    return TemplateResponse(request, "billing/admin/seats.html", {"usage": usage, "search": search})


@require_POST
def release_seat(request: HttpRequest, pk: int) -> HttpResponse:
    """Free one seat of this portal; another portal's seat id is not found here."""
    _require_tenant_admin(request)
    seat = release_candidate_seat(seat_id=pk)
    if seat is None:
        raise Http404("Not found")
    if seat.is_hold:
        messages.success(request, f"The invitation of {seat.email} is revoked; its seat is free.")
    else:
        messages.success(
            request, f"{seat.email} is no longer a candidate here; their seat is free."
        )
    return redirect("billing_seats")
