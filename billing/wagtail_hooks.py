"""The tenant admin's billing page in Wagtail (Settings → Billing) and its banners.

``billing`` is a shared app; Wagtail imports every installed app's ``wagtail_hooks``, so these
hooks are registered for every portal's admin (the platform host has no Wagtail admin).
"""

from django.urls import path, reverse
from django.utils.html import format_html
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component

from billing import views
from billing.selectors import banner_for
from tenants.access.permissions import has_role


@hooks.register("register_admin_urls")
def register_billing_urls():
    return [
        path("billing/", views.overview, name="billing_overview"),
        path("billing/plan/", views.change_plan, name="billing_change_plan"),
        path("billing/portal/", views.customer_portal, name="billing_portal"),
    ]


class TenantAdminMenuItem(MenuItem):
    def is_shown(self, request):
        return has_role(request.user, "admin")


@hooks.register("register_settings_menu_item")
def register_billing_menu_item():
    return TenantAdminMenuItem("Billing", reverse("billing_overview"), icon_name="form", order=950)


class SubscriptionBanner(Component):
    """Past due, read-only or canceled: said on the dashboard of every staff member."""

    order = 10

    def __init__(self, banner):
        self.banner = banner

    def render_html(self, parent_context=None):
        return format_html(
            '<div class="help-block help-{}" role="alert" data-billing-banner>{}</div>',
            "critical" if self.banner.level == "critical" else "warning",
            self.banner.text,
        )


@hooks.register("construct_homepage_panels")
def add_subscription_banner(request, panels):
    tenant = getattr(request, "tenant", None)
    banner = banner_for(tenant) if tenant is not None else None
    if banner is not None:
        panels.insert(0, SubscriptionBanner(banner))
