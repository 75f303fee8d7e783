"""The marketplace in every portal's Wagtail admin (``/cms/marketplace/``).

Wagtail collects ``wagtail_hooks`` modules from every installed app, shared ones included, so
this module of a public-schema app is registered on tenant hosts too; the views read the
catalogue from the public schema through the search path and act for ``request.tenant``.
"""

from __future__ import annotations

from django.urls import include, path, reverse
from wagtail import hooks
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem


@hooks.register("register_admin_urls")
def register_marketplace_admin():
    from marketplace import admin_urls

    return [path("marketplace/", include(admin_urls, namespace="marketplace_admin"))]


@hooks.register("register_admin_menu_item")
def register_marketplace_menu():
    from tenants.access.permissions import has_role, is_staff_member

    class StaffItem(MenuItem):
        def is_shown(self, request) -> bool:
            return is_staff_member(request.user)

    class AdminItem(MenuItem):
        def is_shown(self, request) -> bool:
            return has_role(request.user, "admin")

    class MarketplaceMenu(SubmenuMenuItem):
        def is_shown(self, request) -> bool:
            return is_staff_member(request.user)

    menu = Menu(
        items=[
            StaffItem(
                "Catalogue", reverse("marketplace_admin:catalogue"), icon_name="search", order=100
            ),
            StaffItem(
                "Installed", reverse("marketplace_admin:installed"), icon_name="download", order=200
            ),
            AdminItem(
                "My listings", reverse("marketplace_admin:mine"), icon_name="pick", order=300
            ),
        ]
    )
    return MarketplaceMenu("Marketplace", menu, icon_name="pick", order=400)
