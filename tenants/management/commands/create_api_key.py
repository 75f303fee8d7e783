from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import get_public_schema_name, schema_context

from tenants.access.api_keys import SCOPES, ApiKeyError, create_api_key
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Make an API key for one portal; the key is printed once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("--schema", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--scopes", default="", help=f"Comma-separated: {', '.join(SCOPES)}")

    def handle(self, *args, schema, name, scopes, **options):
        if (
            schema == get_public_schema_name()
            or not Tenant.objects.filter(schema_name=schema, status=Tenant.Status.ACTIVE).exists()
        ):
            raise CommandError(f"No active portal with schema '{schema}'.")
        with schema_context(schema):
            try:
                key, raw = create_api_key(
                    name=name, scopes=[s.strip() for s in scopes.split(",") if s.strip()]
                )
            except ApiKeyError as exc:
                raise CommandError(str(exc)) from exc
        self.stdout.write(f"API key '{key.name}' ({', '.join(key.scopes) or 'no scopes'}):")
        self.stdout.write(raw)
