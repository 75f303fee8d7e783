"""Tenant-admin pages in the Wagtail admin: custom domains."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from themes import domains
from themes.models import CustomDomain


class AddDomainForm(forms.Form):
    hostname = forms.CharField(
        label="Host name", max_length=253, help_text="For example exams.northfield.edu"
    )


def _require_tenant_admin(request) -> None:
    # Role-based checks arrive with the Accounts issue; today the tenant admin is superuser.
    if not request.user.is_superuser:
        raise PermissionDenied


def domain_list(request):
    _require_tenant_admin(request)
    form = AddDomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            claim = domains.add_custom_domain(
                tenant=request.tenant, hostname=form.cleaned_data["hostname"]
            )
        except domains.DomainError as exc:
            form.add_error("hostname", str(exc))
        else:
            messages.success(request, f"{claim.hostname} added. Publish the DNS record below.")
            return redirect("themes_domains")
    context = {
        "form": form,
        "claims": CustomDomain.objects.all(),
        "builtin": request.tenant.domains.exclude(
            domain__in=CustomDomain.objects.values_list("hostname", flat=True)
        ),
    }
    return TemplateResponse(request, "themes/admin/domains.html", context)


@require_POST
def domain_action(request, pk: int, action: str):
    _require_tenant_admin(request)
    claim = get_object_or_404(CustomDomain, pk=pk)
    try:
        if action == "verify":
            claim = domains.verify_custom_domain(tenant=request.tenant, claim=claim)
            if claim.status == CustomDomain.Status.VERIFIED:
                messages.success(request, f"{claim.hostname} is verified.")
            else:
                messages.error(request, f"{claim.hostname}: {claim.last_error}")
        elif action == "primary":
            domains.make_primary(tenant=request.tenant, hostname=claim.hostname)
            messages.success(request, f"{claim.hostname} is now the primary domain.")
        elif action == "remove":
            domains.remove_custom_domain(tenant=request.tenant, claim=claim)
            messages.success(request, f"{claim.hostname} removed.")
        else:
            raise PermissionDenied
    except domains.DomainError as exc:
        messages.error(request, str(exc))
    return redirect("themes_domains")
