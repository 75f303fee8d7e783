"""Platform staff's view of billing (``/admin/`` on the platform host)."""

from django.contrib import admin

from billing.models import Plan, SeatAssignment, StripeEvent, Subscription, UsageRecord


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["event_id", "type", "received_at", "processed_at", "attempts", "error"]
    list_filter = ["type", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id", "type"]
    readonly_fields = [f.name for f in StripeEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "seat_price_cents", "seats", "ai_credits_per_month", "exams"]


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["tenant", "plan", "status", "seats", "current_period_end", "grace_until"]
    list_filter = ["status", "plan"]
    search_fields = ["tenant__slug", "stripe_customer_id", "stripe_subscription_id"]
    readonly_fields = [f.name for f in Subscription._meta.fields]


@admin.register(SeatAssignment)
class SeatAssignmentAdmin(admin.ModelAdmin):
    list_display = ["tenant", "email", "assigned_at", "released_at"]
    list_filter = ["tenant"]


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = [
        "tenant",
        "feature",
        "units",
        "overage_units",
        "occurred_at",
        "reported_to_stripe_at",
    ]
    list_filter = ["feature", "tenant"]
