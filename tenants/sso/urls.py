"""Single sign-on admin URLs, mounted under the Wagtail admin (``/cms/sso/``) by
``wagtail_hooks``."""

from django.urls import path

from tenants.sso import views

app_name = "sso"

urlpatterns = [
    path("", views.provider_list, name="index"),
    path("add/", views.provider_add, name="add"),
    path("<int:pk>/", views.provider_edit, name="edit"),
    path("<int:pk>/enable/", views.provider_set_enabled, {"enabled": True}, name="enable"),
    path("<int:pk>/disable/", views.provider_set_enabled, {"enabled": False}, name="disable"),
    path("<int:pk>/delete/", views.provider_delete, name="delete"),
]
