"""The audit log in the portal's Wagtail admin: list, one entry, CSV download. Read-only.

Every view answers only for users who pass ``selectors.user_can_view_audit_log``; the others
get Wagtail's "permission denied" (a redirect to the dashboard, or 403 for XHR). Entries are
read through the selectors from the current tenant schema, so another tenant's ids find
nothing.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.generic import TemplateView, View
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic.base import BaseListingView, WagtailAdminTemplateMixin
from wagtail.admin.widgets import HeaderButton

from tenants.audit import selectors, services
from tenants.audit.filters import AuditEventFilterSet


def format_moment(event) -> str:
    return f"{timezone.localtime(event.at):%Y-%m-%d %H:%M:%S %Z}"


class AuditPermissionMixin:
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.user_can_view_audit_log(user=request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class AuditEventIndexView(AuditPermissionMixin, BaseListingView):
    """The log, newest first, 50 to a page, with filters and a CSV download of the selection."""

    page_title = "Audit log"
    header_icon = "list-ul"
    index_url_name = "audit:index"
    index_results_url_name = "audit:index_results"
    filterset_class = AuditEventFilterSet
    paginate_by = 50
    verbose_name = "audit event"
    verbose_name_plural = "audit events"
    columns = [
        TitleColumn("at", label="When", url_name="audit:detail", accessor=format_moment),
        Column("action", label="Action", accessor="get_action_display"),
        Column("actor_label", label="Actor"),
        Column("ip", label="IP address"),
        Column("object_label", label="Object"),
    ]

    def get_base_queryset(self):
        return selectors.filter_events(**self.criteria)

    def filter_queryset(self, queryset):
        return queryset  # the selector has applied the criteria already

    @cached_property
    def criteria(self) -> dict[str, Any]:
        return self.filters.criteria if self.filters else {}

    def get_header_buttons(self):
        fields = self.filters.form.fields if self.filters else {}
        query = urlencode(
            {key: self.request.GET[key] for key in fields if self.request.GET.get(key)}
        )
        export_url = reverse("audit:export") + (f"?{query}" if query else "")
        return [
            HeaderButton("Download CSV", url=export_url, icon_name="download"),
            *super().get_header_buttons(),
        ]


class AuditEventDetailView(AuditPermissionMixin, WagtailAdminTemplateMixin, TemplateView):
    """One entry with its full detail."""

    template_name = "audit/event_detail.html"
    header_icon = "list-ul"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        self.event = selectors.get_event(event_id=kwargs["event_id"])
        if self.event is None:
            raise Http404("No such audit event.")
        return super().get(request, *args, **kwargs)

    def get_page_title(self) -> str:
        return f"Audit event {self.event.pk}"

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("audit:index"), "label": "Audit log"},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        detail_json = json.dumps(self.event.detail, indent=2, sort_keys=True, cls=DjangoJSONEncoder)
        return super().get_context_data(event=self.event, detail_json=detail_json, **kwargs)


class AuditEventExportView(AuditPermissionMixin, View):
    """The filtered log as a CSV attachment; the export is itself recorded."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        filters = AuditEventFilterSet(data=request.GET, request=request)
        criteria = filters.criteria
        body = services.export_events_csv(
            events=selectors.filter_events(**criteria).iterator(),
            actor=request.user,
            request=request,
            criteria=criteria,
        )
        filename = f"audit-log-{connection.schema_name}-{timezone.now():%Y%m%d-%H%M%S}.csv"
        response = HttpResponse(body, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        return response
