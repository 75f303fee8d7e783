"""The four plans. Free's features must match billing.entitlements.DEFAULT_PLAN_FEATURES."""

from django.db import migrations

PLANS = [
    # code, name, order, cents per seat and month, seats, AI credits/month, exams, trial, features
    ("free", "Free", 0, 0, 10, 100, 3, 0, ["custom_domain"]),
    (
        "starter", "Starter", 1, 400, 200, 1_000, 25, 14,
        ["custom_domain", "remove_platform_branding"],
    ),
    (
        "pro", "Pro", 2, 900, 2_000, 10_000, None, 14,
        ["custom_domain", "remove_platform_branding", "sso", "api_access", "webcam_proctoring"],
    ),
    (
        "enterprise", "Enterprise", 3, 1_500, None, 100_000, None, 0,
        [
            "custom_domain", "remove_platform_branding", "sso", "api_access",
            "webcam_proctoring", "marketplace_selling",
        ],
    ),
]


def seed_plans(apps, schema_editor):
    Plan = apps.get_model("billing", "Plan")
    for code, name, order, cents, seats, credits, exams, trial, features in PLANS:
        Plan.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "order": order,
                "seat_price_cents": cents,
                "seats": seats,
                "ai_credits_per_month": credits,
                "exams": exams,
                "trial_days": trial,
                "features": features,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_plans_subscriptions_seats_usage_events")]

    operations = [migrations.RunPython(seed_plans, migrations.RunPython.noop)]
