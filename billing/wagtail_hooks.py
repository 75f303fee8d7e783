"""The tenant admin's billing page in Wagtail (Settings → Billing).

``billing`` is a shared app; Wagtail imports every installed app's ``wagtail_hooks``, so these
hooks are registered for every portal's admin (the platform host has no Wagtail admin). The
subscription banner is not a hook: it is on every admin page, through the
``templates/wagtailadmin/base.html`` override (``billing_banners`` template tags).
"""

from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from billing import views
from tenants.access.permissions import has_role


@hooks.register("register_admin_urls")
def register_billing_urls():
    return [
        path("billing/", views.overview, name="billing_overview"),
        path("billing/plan/", views.change_plan, name="billing_change_plan"),
        path("billing/portal/", views.customer_portal, name="billing_portal"),
        path("billing/seats/", views.seats, name="billing_seats"),
        path("billing/seats/<int:pk>/release/", views.release_seat, name="billing_release_seat"),
    ]


class TenantAdminMenuItem(MenuItem):
    def is_shown(self, request):
        return has_role(request.user, "admin")


@hooks.register("register_settings_menu_item")
def register_billing_menu_item():
    return TenantAdminMenuItem("Billing", reverse("billing_overview"), icon_name="form", order=950)
