from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from themes import admin_views


@hooks.register("register_admin_urls")
def register_domain_urls():
    return [
        path("domains/", admin_views.domain_list, name="themes_domains"),
        path(
            "domains/<int:pk>/<slug:action>/",
            admin_views.domain_action,
            name="themes_domain_action",
        ),
    ]


class SuperuserMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser


@hooks.register("register_settings_menu_item")
def register_domains_menu_item():
    return SuperuserMenuItem("Domains", reverse("themes_domains"), icon_name="site", order=900)
