"""Background work of the tenant registry (public schema)."""

from celery import shared_task

from tenants import services


@shared_task(name="tenants.tasks.refill_spare_pool")
def refill_spare_pool() -> int:
    """Keep the pool of pre-cloned spare schemas full; returns how many spares were made."""
    return services.refill_spare_pool()
