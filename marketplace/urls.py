"""The catalogue on the platform site, included at ``/marketplace/`` by ``config/urls_public``."""

from django.urls import path

from marketplace import views

app_name = "marketplace"

urlpatterns = [
    path("", views.catalogue_page, name="catalogue"),
    path("api/listings/", views.catalogue_json, name="catalogue_json"),
    path("api/listings/<slug:slug>/", views.listing_json, name="listing_json"),
    path("<slug:slug>/", views.listing_page, name="listing"),
]
