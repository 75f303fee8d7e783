"""Background work of the portal CMS, run per tenant schema."""

from io import StringIO

from celery import shared_task
from django.core.management import call_command
from django_tenants.utils import schema_context

from tenants.models import Tenant


@shared_task(name="cms.tasks.publish_scheduled_pages")
def publish_scheduled_pages() -> str:
    """Publish and unpublish the pages whose schedule has come, in the task's tenant schema.

    The schema is the one the task was sent from (tenant-schemas-celery re-enters it), so a
    task sent for tenant A can only ever publish A's pages.
    """
    out = StringIO()
    call_command("publish_scheduled", stdout=out)
    return out.getvalue()


@shared_task(name="cms.tasks.publish_scheduled_pages_for_all_tenants")
def publish_scheduled_pages_for_all_tenants() -> int:
    """Periodic fan-out: one ``publish_scheduled_pages`` task per live portal."""
    schema_names = list(
        Tenant.objects.filter(status=Tenant.Status.ACTIVE)
        .exclude(kind=Tenant.Kind.PLATFORM)
        .values_list("schema_name", flat=True)
    )
    for schema_name in schema_names:
        with schema_context(schema_name):
            publish_scheduled_pages.delay()
    return len(schema_names)
