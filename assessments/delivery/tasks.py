"""Background work of exam delivery: the sweeper that closes overdue attempts."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.models import Tenant

from . import services


@shared_task(name="assessments.delivery.tasks.close_overdue_attempts")
def close_overdue_attempts() -> dict[str, int]:
    """Close the overdue attempts of the task's tenant (the schema it was sent from)."""
    return services.close_overdue_attempts()


@shared_task(name="assessments.delivery.tasks.close_overdue_attempts_for_all_tenants")
def close_overdue_attempts_for_all_tenants() -> int:
    """Periodic fan-out: one sweep per live portal, each in its own schema."""
    schema_names = list(
        Tenant.objects.filter(status=Tenant.Status.ACTIVE)
        .exclude(kind=Tenant.Kind.PLATFORM)
        .values_list("schema_name", flat=True)
    )
    for schema_name in schema_names:
        with schema_context(schema_name):
            close_overdue_attempts.delay()
    return len(schema_names)
