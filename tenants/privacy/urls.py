"""Portal URLs of privacy, mounted at ``accounts/privacy/`` in ``config/urls_tenant.py``."""

from django.urls import path

from tenants.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.personal_data, name="personal_data"),
]
