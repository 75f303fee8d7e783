"""Background work of privacy: the retention purge, per tenant and as a daily fan-out."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.models import Tenant
from tenants.privacy import services


@shared_task(name="tenants.privacy.tasks.purge_expired_data")
def purge_expired_data() -> dict[str, int]:
    """Apply the retention policy of the task's tenant schema; returns what was removed.

    The schema is the one the task was sent from (tenant-schemas-celery re-enters it), so a
    task sent for tenant A applies A's policy to A's users only.
    """
    return services.purge_expired_data()


@shared_task(name="tenants.privacy.tasks.purge_expired_data_for_all_tenants")
def purge_expired_data_for_all_tenants() -> int:
    """Periodic fan-out (from the public schema): one ``purge_expired_data`` per portal.

    Suspended portals are included: retention applies to the data a portal keeps whether or
    not its host is being served. The platform, the template and the spares have no users of
    a tenant and are skipped.
    """
    schema_names = list(
        Tenant.objects.filter(status__in=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED])
        .exclude(kind=Tenant.Kind.PLATFORM)
        .values_list("schema_name", flat=True)
    )
    for schema_name in schema_names:
        with schema_context(schema_name):
            purge_expired_data.delay()
    return len(schema_names)
