from django.core.management.base import BaseCommand

from billing.demo import seed_billing_demo


class Command(BaseCommand):
    help = (
        "Put the demo portals on plans (acme: Starter, uni: Pro) against the local Stripe double."
    )

    def handle(self, *args, **options):
        created = seed_billing_demo()
        for line in created:
            self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(f"Billing demo ready ({len(created)} created)."))
