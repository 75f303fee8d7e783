from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from tenants.access import admin_views
from tenants.access.permissions import user_can


@hooks.register("register_admin_urls")
def register_people_urls():
    return [
        path("people/", admin_views.people, name="access_people"),
        path("people/<int:pk>/<slug:action>/", admin_views.person_action, name="access_person"),
        path(
            "people/invitations/<int:pk>/revoke/",
            admin_views.revoke_invitation,
            name="access_revoke_invitation",
        ),
    ]


class PeopleMenuItem(MenuItem):
    def is_shown(self, request):
        return user_can(request.user, "access.add_invitation")


@hooks.register("register_admin_menu_item")
def register_people_menu_item():
    return PeopleMenuItem("People", reverse("access_people"), icon_name="group", order=250)
