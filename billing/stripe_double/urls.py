from django.urls import path

from billing.stripe_double import api, pages

urlpatterns = [
    path("v1/<path:path>", api.api_view, name="stripe_double_api"),
    path("checkout/<str:session_id>/", pages.checkout, name="stripe_double_checkout"),
    path("portal/<str:session_id>/", pages.portal, name="stripe_double_portal"),
    path("invoices/<str:invoice_id>/", pages.invoice, name="stripe_double_invoice"),
    path("connect/onboarding/<str:link_id>/", pages.onboarding, name="stripe_double_onboarding"),
]
