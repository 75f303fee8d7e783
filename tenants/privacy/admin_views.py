"""Erasure in the portal's Wagtail admin: find a user by email, confirm, erase.

Only active superusers of the tenant get past ``ErasurePermissionMixin`` (others get Wagtail's
"permission denied"). Users are looked up in the current tenant schema, so another tenant's
ids or emails find nothing (404 / "no user").
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView
from wagtail.admin import messages
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from tenants.privacy import selectors, services
from tenants.privacy.forms import FindUserForm


class ErasurePermissionMixin:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.user_can_erase_users(user=request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class FindUserView(ErasurePermissionMixin, WagtailAdminTemplateMixin, TemplateView):
    """A form asking for the email of the user to erase; a match goes to the confirmation.

    The form is POSTed so that the email never lands in a URL (server logs, browser history).
    """

    template_name = "privacy/admin/find_user.html"
    page_title = "Privacy"
    header_icon = "lock"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=FindUserForm()))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = FindUserForm(request.POST)
        if form.is_valid():
            user = selectors.find_user_by_email(email=form.cleaned_data["email"])
            if user is not None:
                return redirect("privacy_admin:erase", user_id=user.pk)
            form.add_error("email", "No user of this portal has this email address.")
        return self.render_to_response(self.get_context_data(form=form))

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": "Privacy"}]


class EraseUserView(ErasurePermissionMixin, WagtailAdminTemplateMixin, TemplateView):
    """GET: what erasing this user removes. POST: erase, then back to the search form."""

    template_name = "privacy/admin/erase_user.html"
    header_icon = "lock"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.user = None
        return super().dispatch(request, *args, **kwargs)

    def get_target(self, user_id: int):
        user = selectors.get_user(user_id=user_id)
        if user is None:
            raise Http404("No such user.")
        return user

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.user = self.get_target(kwargs["user_id"])
        return super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = self.get_target(kwargs["user_id"])
        try:
            services.erase_user(user=user, by=request.user, request=request)
        except services.PrivacyError as refusal:
            messages.error(request, str(refusal))
            return redirect("privacy_admin:erase", user_id=user.pk)
        messages.success(request, f"User #{user.pk} has been erased.")
        return redirect("privacy_admin:index")

    def get_page_title(self) -> str:
        return f"Erase user #{self.user.pk}" if self.user else "Erase user"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("privacy_admin:index"), "label": "Privacy"},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            target=self.user,
            summary=selectors.erasure_summary(user=self.user),
            already_erased=selectors.is_erased(user=self.user),
            **kwargs,
        )
