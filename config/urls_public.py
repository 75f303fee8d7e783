"""URLs of the platform site (the public schema's hosts, e.g. http://localhost:8000/)."""

from django.contrib import admin
from django.urls import include, path

from tenants.views import healthz
from tenants.views_public import platform_home

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", platform_home, name="platform-home"),
]
