"""URLs of the platform site (the public schema's hosts, e.g. http://localhost:8000/)."""

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from tenants.views import healthz
from tenants.views_public import platform_home

# Platform staff sign in to /admin/ through allauth too (MFA, rate limits).
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("billing.urls")),  # Stripe webhook; the local Stripe double in development
    path("marketplace/", include("marketplace.urls")),
    path("", platform_home, name="platform-home"),
]
