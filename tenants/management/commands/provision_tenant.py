from django.core.management.base import BaseCommand, CommandError

from tenants.models import Tenant
from tenants.services import ProvisioningError, SchemaSource, provision_tenant


class Command(BaseCommand):
    help = "Create a tenant portal: schema, Wagtail site and home page, domain and first admin."

    def add_arguments(self, parser):
        parser.add_argument("--slug", required=True, help="e.g. northfield (also the schema)")
        parser.add_argument("--name", required=True, help="Display name, e.g. 'Northfield U'")
        parser.add_argument(
            "--kind",
            required=True,
            choices=[Tenant.Kind.UNIVERSITY, Tenant.Kind.COMPANY, Tenant.Kind.PUBLISHER],
        )
        parser.add_argument("--admin-email", required=True)
        parser.add_argument("--domain", help="Host name (default: <slug>.<portal suffix>)")
        parser.add_argument(
            "--source",
            choices=[s.value for s in SchemaSource],
            default=SchemaSource.POOL.value,
            help="How to make the schema (default: a spare from the pool, else a clone).",
        )

    def handle(self, *args, **options):
        try:
            result = provision_tenant(
                slug=options["slug"],
                name=options["name"],
                kind=options["kind"],
                admin_email=options["admin_email"],
                domain=options.get("domain"),
                source=SchemaSource(options["source"]),
            )
        except ProvisioningError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {result.tenant.name} at {result.domain} ({result.source})."
            )
        )
        self.stdout.write(
            f"Admin {result.admin_email} sets a password at:\n{result.set_password_url}"
        )
