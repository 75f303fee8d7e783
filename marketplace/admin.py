"""Platform staff's moderation of the marketplace (``/admin/`` on the platform host).

Listings: approve (community banks wait here), suspend. Reviews: hide or publish again.
Actions call ``marketplace.services``; rows are otherwise read-only, and a version's document
is never editable (versions are immutable).
"""

from __future__ import annotations

from django.contrib import admin, messages

from marketplace import services
from marketplace.models import Installation, Licence, Listing, Purchase, Review
from marketplace.services import MarketplaceError


@admin.register(Listing)
class ListingAdmin(admin.ModelAdmin):
    list_display = ["title", "publisher", "kind", "price_model", "status", "community", "updated"]
    list_filter = ["status", "community", "kind", "price_model"]
    search_fields = ["title", "slug", "publisher__slug"]
    readonly_fields = [f.name for f in Listing._meta.fields if f.name != "moderation_note"]
    actions = ["approve", "suspend"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Approve and publish the selected listings")
    def approve(self, request, queryset):
        done = 0
        for listing in queryset:
            try:
                services.approve_listing(listing=listing)
                done += 1
            except MarketplaceError as error:
                self.message_user(request, f"{listing}: {error}", messages.ERROR)
        self.message_user(request, f"{done} listing(s) published.")

    @admin.action(description="Suspend the selected listings")
    def suspend(self, request, queryset):
        for listing in queryset:
            services.suspend_listing(listing=listing, note=listing.moderation_note)
        self.message_user(request, f"{queryset.count()} listing(s) suspended.")


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["listing", "buyer", "rating", "status", "created"]
    list_filter = ["status", "rating"]
    search_fields = ["listing__title", "text"]
    readonly_fields = [f.name for f in Review._meta.fields]
    actions = ["hide", "publish"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Hide the selected reviews")
    def hide(self, request, queryset):
        for review in queryset:
            services.moderate_review(review=review, status=Review.Status.HIDDEN)
        self.message_user(request, f"{queryset.count()} review(s) hidden.")

    @admin.action(description="Publish the selected reviews")
    def publish(self, request, queryset):
        for review in queryset:
            services.moderate_review(review=review, status=Review.Status.PUBLISHED)
        self.message_user(request, f"{queryset.count()} review(s) published.")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    list_display = ["listing", "buyer", "seats", "amount", "platform_fee", "status", "created"]
    list_filter = ["status", "payout_status", "provider"]


@admin.register(Licence)
class LicenceAdmin(ReadOnlyAdmin):
    list_display = ["listing", "buyer", "source", "seats", "created"]


@admin.register(Installation)
class InstallationAdmin(ReadOnlyAdmin):
    list_display = ["listing", "buyer", "version", "created", "updated"]
