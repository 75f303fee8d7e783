"""URLs of a tenant's portal (any host that belongs to a tenant)."""

from django.urls import include, path, re_path
from django.views.generic import RedirectView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from config.api import api
from tenants.access.views import accept_invitation_link
from tenants.views import healthz, serve_media
from themes import views as theme_views

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("theme.css", theme_views.theme_stylesheet, name="theme-css"),
    path("manifest.webmanifest", theme_views.web_manifest, name="web-manifest"),
    path("sw.js", theme_views.service_worker, name="service-worker"),
    path("offline/", theme_views.offline, name="offline"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", api.urls),
    re_path(r"^media/(?P<path>.+)$", serve_media, name="media"),
    # Wagtail's own password form would bypass allauth's MFA and rate limits.
    path("exam/", include("assessments.delivery.urls")),
    path("cms/login/", RedirectView.as_view(pattern_name="account_login", query_string=True)),
    path("cms/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/invitation/<str:token>/", accept_invitation_link, name="accept-invitation"),
    path("accounts/privacy/", include("tenants.privacy.urls")),
    path("accounts/", include("allauth.urls")),
    path("interview/", include("assessments.interviews.urls")),
    path("results/", include("assessments.analytics.urls")),
    path("", include(wagtail_urls)),
]
