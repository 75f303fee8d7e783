"""Privacy in the portal admin: the erasure views, their Settings menu item, and the audit
of retention policy edits (the policy itself is a Wagtail setting, see ``models``)."""

from __future__ import annotations

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from tenants.privacy import admin_urls, services
from tenants.privacy.models import RetentionPolicy
from tenants.privacy.selectors import user_can_erase_users


class PrivacyMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return user_can_erase_users(user=request.user)


@hooks.register("register_admin_urls")
def register_privacy_urls():
    return [path("privacy/", include(admin_urls, namespace="privacy_admin"))]


@hooks.register("register_settings_menu_item")
def register_privacy_menu_item():
    return PrivacyMenuItem("Privacy", reverse("privacy_admin:index"), icon_name="lock", order=910)


@hooks.register("after_edit_setting")
def record_retention_policy_change(request, instance):
    if isinstance(instance, RetentionPolicy):
        services.record_retention_policy_change(policy=instance, request=request)
