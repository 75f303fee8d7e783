"""The marketplace catalogue (public schema, shared by every portal).

A ``Listing`` is what a publisher tenant offers; each ``ListingVersion`` holds an immutable,
self-contained ``document`` (questions, rubrics, exam settings and sections; see
``marketplace.documents``). Buyers never read a document: the catalogue shows the listing, its
``SampleQuestion`` previews (candidate views without answer keys, stored apart from the
document) and reviews. A buyer tenant holds a ``Licence`` (free, or from a paid ``Purchase``),
and an ``Installation`` records which version was copied into its schema and where.

Rows here name tenants, never people: nothing about a buyer's users, attempts or results is
ever stored in the public schema.
"""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class ImmutableVersionError(Exception):
    """A published listing version cannot change or be deleted."""


class Listing(models.Model):
    """A template offered in the catalogue by one publisher tenant."""

    class Kind(models.TextChoices):
        EXAM = "exam", "Exam template"
        INTERVIEW = "interview", "Interview template"
        QUESTION_BANK = "question_bank", "Question bank"

    class PriceModel(models.TextChoices):
        FREE = "free", "Free"
        ONE_OFF = "one_off", "One-off price"
        PER_SEAT = "per_seat", "Per seat"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PENDING_MODERATION = "pending_moderation", "Waiting for moderation"
        PUBLISHED = "published", "Published"
        SUSPENDED = "suspended", "Suspended"

    class Level(models.TextChoices):
        INTRODUCTORY = "introductory", "Introductory"
        INTERMEDIATE = "intermediate", "Intermediate"
        ADVANCED = "advanced", "Advanced"
        PROFESSIONAL = "professional", "Professional"

    publisher = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="marketplace_listings"
    )
    slug = models.SlugField(max_length=80, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="Plain text.")
    subject = models.CharField(max_length=100, blank=True)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    level = models.CharField(max_length=20, choices=Level.choices, default=Level.INTRODUCTORY)
    language = models.CharField(max_length=10, default="en")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.EXAM)
    price_model = models.CharField(
        max_length=10, choices=PriceModel.choices, default=PriceModel.FREE
    )
    # Minor units (cents); per seat for per-seat listings.
    price_amount = models.PositiveIntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    licence_terms = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    community = models.BooleanField(
        default=False, help_text="A free community bank: published after platform moderation."
    )
    moderation_note = models.TextField(blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(price_model="free") & models.Q(price_amount=0))
                | (~models.Q(price_model="free") & models.Q(price_amount__gt=0)),
                name="marketplace_listing_price_matches_model",
            ),
            models.CheckConstraint(
                condition=models.Q(community=False) | models.Q(price_model="free"),
                name="marketplace_listing_community_is_free",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_free(self) -> bool:
        return self.price_model == self.PriceModel.FREE

    @property
    def price_display(self) -> str:
        if self.is_free:
            return "Free"
        amount = f"{self.price_amount / 100:,.2f} {self.currency.upper()}"
        return f"{amount} per seat" if self.price_model == self.PriceModel.PER_SEAT else amount


class ListingVersionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableVersionError("Listing versions cannot be changed.")

    def delete(self):
        raise ImmutableVersionError("Listing versions cannot be deleted.")


class ListingVersion(models.Model):
    """One immutable release of a listing's content. Old versions stay installable."""

    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    document = models.JSONField()
    release_notes = models.TextField(blank=True)
    size_bytes = models.PositiveIntegerField()
    checksum = models.CharField(max_length=64, help_text="sha256 of the canonical document.")
    question_count = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    objects = ListingVersionQuerySet.as_manager()

    class Meta:
        ordering = ["listing", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["listing", "number"], name="marketplace_listingversion_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.listing} v{self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableVersionError(f"Listing version {self.pk} is immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableVersionError(f"Listing version {self.pk} cannot be deleted.")


class SampleQuestion(models.Model):
    """A preview question of a version: what a candidate would see, never an answer key.
    Kept apart from ``ListingVersion.document`` so a preview can never expose the rest."""

    version = models.ForeignKey(ListingVersion, on_delete=models.CASCADE, related_name="samples")
    position = models.PositiveSmallIntegerField()
    type = models.CharField(max_length=40)
    title = models.CharField(max_length=255)
    stem = models.TextField(blank=True)
    candidate_view = models.JSONField(default=dict)

    class Meta:
        ordering = ["version", "position"]

    def __str__(self) -> str:
        return f"sample {self.position} of {self.version}"


class Licence(models.Model):
    """A buyer tenant's right to install a listing (all its versions)."""

    class Source(models.TextChoices):
        FREE = "free", "Free listing"
        PURCHASE = "purchase", "Purchase"

    buyer = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="marketplace_licences"
    )
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="licences")
    seats = models.PositiveIntegerField(
        null=True, blank=True, help_text="Per-seat listings: seats bought. Empty: unlimited."
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "listing"], name="marketplace_licence_one_per_buyer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.buyer} → {self.listing}"


class Purchase(models.Model):
    """One checkout of a paid listing; a paid purchase grants (or extends) a licence."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for payment"
        PAID = "paid", "Paid"
        CANCELED = "canceled", "Canceled"

    class Payout(models.TextChoices):
        OWED = "owed", "Owed to the publisher"
        TRANSFERRED = "transferred", "Transferred"
        AT_SALE = "at_sale", "Paid to the publisher at sale"

    buyer = models.ForeignKey(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="marketplace_purchases"
    )
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="purchases")
    version = models.ForeignKey(ListingVersion, on_delete=models.PROTECT, related_name="+")
    seats = models.PositiveIntegerField(default=1)
    amount = models.PositiveIntegerField(help_text="Total, minor units.")
    currency = models.CharField(max_length=3)
    platform_fee = models.PositiveIntegerField(help_text="The platform's share, minor units.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    provider = models.CharField(max_length=40)
    checkout_session_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    payment_intent_id = models.CharField(max_length=255, blank=True)
    # Where the buyer returns after paying (their portal's admin), set by the service.
    success_url = models.URLField(max_length=500, blank=True)
    payout_status = models.CharField(max_length=12, choices=Payout.choices, default=Payout.OWED)
    transfer_id = models.CharField(max_length=255, blank=True)
    # The publisher's Connect account when the payment was a destination charge (Stripe paid
    # the publisher's share at sale); empty: the platform collected all and transfers later.
    destination_account = models.CharField(max_length=255, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"purchase {self.pk}: {self.buyer} → {self.listing} ({self.status})"

    @property
    def publisher_share(self) -> int:
        return self.amount - self.platform_fee


class PublisherAccount(models.Model):
    """A publisher tenant's Stripe Connect (Express) account, where its sales are paid.

    ``payouts_enabled`` mirrors Stripe as last read (after onboarding and before each payout);
    until it is true, sales are collected by the platform and stay owed.
    """

    publisher = models.OneToOneField(
        "tenants.Tenant", on_delete=models.PROTECT, related_name="marketplace_payout_account"
    )
    stripe_account_id = models.CharField(max_length=255, unique=True)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    details_submitted = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.publisher} → {self.stripe_account_id}"


class Installation(models.Model):
    """Which version of a listing a buyer installed, and where it landed in its schema.
    ``exam_id``, ``category_id`` and ``question_map`` are ids in the buyer's schema only."""

    buyer = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="marketplace_installations"
    )
    listing = models.ForeignKey(Listing, on_delete=models.PROTECT, related_name="installations")
    version = models.ForeignKey(ListingVersion, on_delete=models.PROTECT, related_name="+")
    exam_id = models.PositiveIntegerField(null=True, blank=True)
    exam_version_number = models.PositiveIntegerField(null=True, blank=True)
    category_id = models.PositiveIntegerField(null=True, blank=True)
    # document question ref → question id in the buyer's schema
    question_map = models.JSONField(default=dict)
    # pool "section.item" → category id in the buyer's schema
    pool_categories = models.JSONField(default=dict)
    history = models.JSONField(default=list, help_text="Versions installed, with dates.")
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "listing"], name="marketplace_installation_one_per_buyer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.listing} v{self.version.number} in {self.buyer}"


class Review(models.Model):
    """A licensed buyer's rating and text; the publisher may reply; platform staff moderate."""

    class Status(models.TextChoices):
        PUBLISHED = "published", "Published"
        HIDDEN = "hidden", "Hidden by moderation"

    buyer = models.ForeignKey(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="marketplace_reviews"
    )
    listing = models.ForeignKey(Listing, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    text = models.TextField(blank=True)
    publisher_reply = models.TextField(blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PUBLISHED)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "listing"], name="marketplace_review_one_per_buyer"
            ),
            models.CheckConstraint(
                condition=models.Q(rating__gte=1, rating__lte=5),
                name="marketplace_review_rating_1_to_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 by {self.buyer} on {self.listing}"
