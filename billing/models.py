"""Billing records of the public schema: plans, subscriptions, seats, usage, Stripe events.

Every row names its tenant explicitly (these tables live in ``public``, next to the tenant
registry); nothing here is reachable from a tenant schema except through ``billing``'s
selectors, which always filter by the tenant they were given.
"""

from __future__ import annotations

import uuid

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils import timezone

# The local Stripe double keeps its state in tables of its own (public schema too).
from billing.stripe_double.models import DoubleIdempotencyKey, DoubleObject  # noqa: F401


class Plan(models.Model):
    """A tier a tenant can be on. Seeded by a migration; prices are per seat and month.

    ``None`` for a limit means unlimited. ``seats`` is the most a tenant may buy on the plan
    (Free: the seats it includes); a paid tenant's seat limit is the quantity it bought.
    """

    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=60)
    order = models.PositiveSmallIntegerField(default=0)
    seat_price_cents = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    seats = models.PositiveIntegerField(null=True, blank=True)
    ai_credits_per_month = models.PositiveIntegerField(null=True, blank=True)
    exams = models.PositiveIntegerField(null=True, blank=True)
    features = ArrayField(models.CharField(max_length=40), default=list, blank=True)
    trial_days = models.PositiveSmallIntegerField(default=0)
    # Filled the first time the plan is sold (looked up in Stripe by ``lookup_key``).
    stripe_price_id = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_free(self) -> bool:
        return self.seat_price_cents == 0

    @property
    def lookup_key(self) -> str:
        return f"viva_{self.code}_seat_monthly"


class Subscription(models.Model):
    """A tenant's Stripe customer and subscription, mirrored from Stripe by ``sync``.

    A tenant without a row is on the Free plan. The row is the lock that serialises seat
    assignments of one tenant (``select_for_update``).
    """

    class Status(models.TextChoices):
        TRIALING = "trialing", "Trial"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        CANCELED = "canceled", "Canceled"
        UNPAID = "unpaid", "Unpaid"
        INCOMPLETE = "incomplete", "Incomplete"

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="subscription"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    seats = models.PositiveIntegerField(default=0)
    stripe_customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True, db_index=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    trial_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    # Set when the subscription first turns past_due; after it the tenant is read-only.
    grace_until = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_subscription_id"],
                condition=~Q(stripe_subscription_id=""),
                name="billing_subscription_stripe_id_uniq",
            )
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.plan_id} ({self.status})"


class SeatQuerySet(models.QuerySet):
    def counted(self, tenant_id: int, *, now=None) -> SeatQuerySet:
        """The seats that count against ``tenant_id``'s limit: not released, and for an
        invitation's hold, not expired (an expired hold stops counting by itself, so nothing
        has to sweep them)."""
        return self.filter(tenant_id=tenant_id, released_at__isnull=True).filter(
            Q(expires_at__isnull=True) | Q(expires_at__gt=now or timezone.now())
        )


class SeatAssignment(models.Model):
    """A licence held by one person of a tenant (an active candidate), or held for an invited
    email from the moment the invitation is sent (``user_id`` empty, ``expires_at`` the
    invitation's expiry) so that concurrent invitations can never promise more seats than
    were bought. Accepting the invitation turns the hold into the person's seat."""

    class Source(models.TextChoices):
        INVITATION = "invitation", "Invitation"
        ROLE = "role", "Candidate role granted"
        SIGNUP = "signup", "Signed up"
        HIRING = "hiring", "Hiring"

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    user_id = models.BigIntegerField(null=True, blank=True)
    email = models.EmailField()
    # Hiring candidacies were the first to take seats: rows from before sources were kept.
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.HIRING)
    assigned_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)

    objects = SeatQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user_id"],
                condition=Q(released_at__isnull=True),
                name="billing_one_active_seat_per_user",
            ),
            models.UniqueConstraint(
                fields=["tenant", "email"],
                condition=Q(released_at__isnull=True, user_id__isnull=True),
                name="billing_one_seat_hold_per_email",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "released_at"], name="billing_seat_tenant_idx")]

    def __str__(self) -> str:
        if self.released_at:
            state = "released"
        elif self.user_id is None:
            state = "held for an invitation"
        else:
            state = "assigned"
        return f"{self.email} ({state})"

    @property
    def is_hold(self) -> bool:
        return self.user_id is None


class UsageRecord(models.Model):
    """Units of a metered feature used by a tenant; units beyond the plan are reported."""

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    feature = models.CharField(max_length=40)
    units = models.PositiveIntegerField()
    # Of ``units``, how many fell beyond the plan's monthly credits (billed as meter events).
    overage_units = models.PositiveIntegerField(default=0)
    occurred_at = models.DateTimeField()
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reported_to_stripe_at = models.DateTimeField(null=True, blank=True)
    report_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "feature", "occurred_at"], name="billing_usage_idx")
        ]

    def __str__(self) -> str:
        return f"{self.units} {self.feature} at {self.occurred_at:%Y-%m-%d %H:%M}"


class StripeEvent(models.Model):
    """A webhook event, stored once per Stripe event id; processing may be retried."""

    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"
