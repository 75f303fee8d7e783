"""Billing URLs of the platform host: Stripe's webhook and, in development and tests, the
local Stripe double under ``/_stripe/``."""

from django.urls import include, path

from billing import gateway, views

urlpatterns = [
    path("billing/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
# Only with no real Stripe key, and only when DEBUG or under the test settings.
if gateway.uses_local_double() and gateway.local_double_allowed():
    urlpatterns.append(path("_stripe/", include("billing.stripe_double.urls")))
