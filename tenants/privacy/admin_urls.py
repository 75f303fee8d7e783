"""Privacy URLs in the Wagtail admin (``/cms/privacy/``), registered by ``wagtail_hooks``."""

from django.urls import path

from tenants.privacy import admin_views

app_name = "privacy_admin"

urlpatterns = [
    path("", admin_views.FindUserView.as_view(), name="index"),
    path("erase/<int:user_id>/", admin_views.EraseUserView.as_view(), name="erase"),
]
