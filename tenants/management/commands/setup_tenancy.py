from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from tenants import services


class Command(BaseCommand):
    help = (
        "Migrate the public schema and every tenant schema (template, spares, portals), "
        "refresh the template's starting content and refill the spare pool. Idempotent."
    )

    def add_arguments(self, parser):
        parser.add_argument("--pool-size", type=int, default=None)
        parser.add_argument(
            "--demo",
            action="store_true",
            help="Then create the demo portals (what `make run` does; development only).",
        )

    def handle(self, *args, pool_size=None, demo=False, verbosity=1, **options):
        report = services.setup_tenancy(
            platform_domains=settings.VIVA_PLATFORM_DOMAINS,
            pool_size=pool_size,
            verbosity=max(verbosity - 1, 0),
        )
        self.stdout.write(
            self.style.SUCCESS(
                "Tenancy ready: template {}, {} spare(s) discarded, {} spare(s) made.".format(
                    "created" if report.template_created else "up to date",
                    report.spares_discarded,
                    report.spares_made,
                )
            )
        )
        if demo:
            call_command("seed_demo", stdout=self.stdout, stderr=self.stderr)
