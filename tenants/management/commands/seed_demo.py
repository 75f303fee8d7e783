from django.core.management.base import BaseCommand, CommandError

from tenants import services
from tenants.demo import DEMO_PASSWORD, DEMO_PORTALS, seed_demo


class Command(BaseCommand):
    help = "Create the demo portals uni, acme and press with their users (development only)."

    def handle(self, *args, **options):
        try:
            created = seed_demo()
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        services.refill_spare_pool()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready ({len(created)} item(s) created)."))
        self.stdout.write("\n  Platform:  http://localhost:8000/")
        for portal in DEMO_PORTALS:
            url = services.portal_url(f"{portal.slug}.localhost")
            logins = ", ".join(user.email for user in portal.users)
            self.stdout.write(f"  {portal.name + ':':24} {url}  (admin at {url}cms/)  {logins}")
        self.stdout.write(f"  Password for every demo login: {DEMO_PASSWORD}\n")
