"""The audit log in the portal admin: its URLs, a Settings menu item, and its permission."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from tenants.audit import urls
from tenants.audit.selectors import user_can_view_audit_log


class AuditLogMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return user_can_view_audit_log(user=request.user)


@hooks.register("register_admin_urls")
def register_audit_urls():
    return [path("audit/", include(urls, namespace="audit"))]


@hooks.register("register_settings_menu_item")
def register_audit_menu_item():
    return AuditLogMenuItem("Audit log", reverse("audit:index"), icon_name="list-ul", order=900)


@hooks.register("register_permissions")
def register_audit_permissions():
    """Lets a tenant admin grant "Can view audit event" to a group in Settings > Groups."""
    return Permission.objects.filter(content_type__app_label="audit", codename="view_auditevent")
