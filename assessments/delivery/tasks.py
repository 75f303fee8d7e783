"""Background work of exam delivery: the sweeper that closes overdue attempts, and the
retention of webcam snapshots. Each runs in one tenant's schema; a ``*_for_all_tenants``
task (Celery beat, public schema) sends one per live portal."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from tenants.models import Tenant

from . import proctoring, services


@shared_task(name="assessments.delivery.tasks.close_overdue_attempts")
def close_overdue_attempts() -> dict[str, int]:
    """Close the overdue attempts of the task's tenant (the schema it was sent from)."""
    return services.close_overdue_attempts()


@shared_task(name="assessments.delivery.tasks.close_overdue_attempts_for_all_tenants")
def close_overdue_attempts_for_all_tenants() -> int:
    """Periodic fan-out: one sweep per live portal, each in its own schema."""
    return _fan_out(close_overdue_attempts, statuses=[Tenant.Status.ACTIVE])


@shared_task(name="assessments.delivery.tasks.purge_expired_snapshots")
def purge_expired_snapshots() -> int:
    """Delete the task's tenant's webcam snapshots older than the retention setting."""
    return proctoring.purge_expired_snapshots()


@shared_task(name="assessments.delivery.tasks.purge_expired_snapshots_for_all_tenants")
def purge_expired_snapshots_for_all_tenants() -> int:
    """Periodic fan-out (daily): one retention pass per portal, in its own schema. Suspended
    portals too: a suspension does not extend how long camera images are kept."""
    return _fan_out(
        purge_expired_snapshots, statuses=[Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED]
    )


def _fan_out(task, *, statuses: list[str]) -> int:
    schema_names = list(
        Tenant.objects.filter(status__in=statuses)
        .exclude(kind=Tenant.Kind.PLATFORM)
        .values_list("schema_name", flat=True)
    )
    for schema_name in schema_names:
        with schema_context(schema_name):
            task.delay()
    return len(schema_names)
