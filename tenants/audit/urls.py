"""Audit log URLs, mounted under the Wagtail admin (``/cms/audit/``) by ``wagtail_hooks``."""

from django.urls import path

from tenants.audit import views

app_name = "audit"

urlpatterns = [
    path("", views.AuditEventIndexView.as_view(), name="index"),
    path(
        "results/",
        views.AuditEventIndexView.as_view(results_only=True),
        name="index_results",
    ),
    path("<int:event_id>/", views.AuditEventDetailView.as_view(), name="detail"),
    path("export.csv", views.AuditEventExportView.as_view(), name="export"),
]
