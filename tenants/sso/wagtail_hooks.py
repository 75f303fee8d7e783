"""Single sign-on in the portal admin: its URLs and a Settings menu item for the tenant admin."""

from __future__ import annotations

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from tenants.sso import urls


class SuperuserMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return request.user.is_superuser


@hooks.register("register_admin_urls")
def register_sso_urls():
    return [path("sso/", include(urls, namespace="sso"))]


@hooks.register("register_settings_menu_item")
def register_sso_menu_item():
    return SuperuserMenuItem("Single sign-on", reverse("sso:index"), icon_name="key", order=910)
