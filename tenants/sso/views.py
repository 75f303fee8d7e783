"""Single sign-on in the portal's Wagtail admin: list, add, edit, enable/disable, delete.

For the tenant admin only (today: superusers; others get 403, and Wagtail sends users without
admin access to the sign-in page). Providers are read from the current tenant schema only, so
another portal's ids answer 404. The client secret is write-only: no page ever renders it.
Without single sign-on in the portal's plan, the pages say so and link to billing; adding and
enabling are refused with that message (the services enforce it).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from tenants.sso import selectors, services
from tenants.sso.forms import AddProviderForm, ProviderForm
from tenants.sso.models import IdentityProvider


def _require_tenant_admin(request: HttpRequest) -> None:
    # Role-based checks arrive with the Accounts issue; today the tenant admin is superuser.
    if not request.user.is_superuser:
        raise PermissionDenied


def _get_provider(pk: int) -> IdentityProvider:
    try:
        return selectors.get_provider_for_admin(pk=pk)
    except IdentityProvider.DoesNotExist:
        raise Http404("No such identity provider.") from None


def provider_list(request: HttpRequest) -> HttpResponse:
    _require_tenant_admin(request)
    rows = [
        (provider, selectors.endpoints_for(provider=provider, request=request))
        for provider in selectors.all_providers()
    ]
    allowance = selectors.sso_allowance(request=request)
    return TemplateResponse(request, "sso/admin/index.html", {"rows": rows, "allowance": allowance})


def provider_add(request: HttpRequest) -> HttpResponse:
    _require_tenant_admin(request)
    allowance = selectors.sso_allowance(request=request)
    if not allowance.allowed:
        # The upgrade message instead of a form that could only be refused.
        return TemplateResponse(
            request, "sso/admin/upgrade.html", {"allowance": allowance, "title": "Add provider"}
        )
    form = AddProviderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            provider = services.add_identity_provider(
                **form.cleaned_data, actor=request.user, request=request
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"{provider.name} added.")
            return redirect("sso:index")
    return TemplateResponse(
        request, "sso/admin/form.html", {"form": form, "provider": None, "title": "Add provider"}
    )


def provider_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_tenant_admin(request)
    provider = _get_provider(pk)
    form = ProviderForm(request.POST or None, provider=provider)
    if request.method == "POST" and form.is_valid():
        try:
            provider = services.change_identity_provider(
                provider=provider, **form.cleaned_data, actor=request.user, request=request
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, f"{provider.name} saved.")
            return redirect("sso:index")
    endpoints = selectors.endpoints_for(provider=provider, request=request)
    context = {"form": form, "provider": provider, "endpoints": endpoints, "title": provider.name}
    return TemplateResponse(request, "sso/admin/form.html", context)


@require_POST
def provider_set_enabled(request: HttpRequest, pk: int, enabled: bool) -> HttpResponse:
    _require_tenant_admin(request)
    provider = _get_provider(pk)
    try:
        provider = services.set_identity_provider_enabled(
            provider=provider, enabled=enabled, actor=request.user, request=request
        )
    except ValidationError as exc:
        # e.g. re-enabling a provider whose settings no longer pass the rules
        messages.error(request, " ".join(exc.messages))
    else:
        state = "enabled" if provider.enabled else "disabled"
        messages.success(request, f"{provider.name} {state}.")
    return redirect("sso:index")


def provider_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_tenant_admin(request)
    provider = _get_provider(pk)
    if request.method == "POST":
        services.remove_identity_provider(provider=provider, actor=request.user, request=request)
        messages.success(request, f"{provider.name} deleted.")
        return redirect("sso:index")
    return TemplateResponse(request, "sso/admin/confirm_delete.html", {"provider": provider})
