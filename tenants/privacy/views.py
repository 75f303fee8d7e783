"""The portal's "my data" page: what Viva keeps about you, and a download of all of it."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from tenants.privacy import services


@require_http_methods(["GET", "POST"])
@login_required
def personal_data(request: HttpRequest) -> HttpResponse:
    """GET: the explanation and a "Download my data" button. POST: the signed-in user's own
    data as a zip attachment, never cached. Only ever the requester's own data: there is no
    parameter naming a user."""
    if request.method == "POST":
        body = services.export_user_data(user=request.user, request=request)
        filename = f"{request.tenant.slug}-my-data-{timezone.localdate():%Y-%m-%d}.zip"
        response = HttpResponse(body, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "privacy/personal_data.html")
