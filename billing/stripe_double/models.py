"""State of the local Stripe double: Stripe-shaped JSON objects in the public schema.

Kept in the database, not in process memory, so every web process and worker sees the same
"Stripe". Registered under the ``billing`` app (imported by ``billing.models``).
"""

from __future__ import annotations

from django.db import models


class DoubleObject(models.Model):
    """One Stripe object (customer, price, checkout session, subscription, invoice, event...)."""

    id = models.CharField(max_length=100, primary_key=True)
    object = models.CharField(max_length=60, db_index=True)
    customer = models.CharField(max_length=100, blank=True, db_index=True)
    data = models.JSONField()
    created = models.DateTimeField(auto_now_add=True)
    # Events only: when the webhook was delivered with a 2xx answer.
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "billing"
        db_table = "billing_stripe_double_object"
        ordering = ["created", "id"]

    def __str__(self) -> str:
        return self.id


class DoubleIdempotencyKey(models.Model):
    """The answer first given to a POST with this ``Idempotency-Key``, replayed on repeats."""

    key = models.CharField(max_length=255, primary_key=True)
    path = models.CharField(max_length=300)
    status = models.PositiveSmallIntegerField()
    body = models.TextField()
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "billing"
        db_table = "billing_stripe_double_idempotency_key"

    def __str__(self) -> str:
        return self.key
