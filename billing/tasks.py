"""Background work of billing. Every task names the tenant it works for in its arguments."""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import get_public_schema_name, schema_context


@shared_task(name="billing.tasks.report_usage")
def report_usage(*, tenant_id: int, usage_record_id: int) -> bool:
    """Report one usage record's overage to Stripe (the record's key makes retries count once).

    A failure is kept on the record; ``report_pending_usage`` tries again later."""
    from billing.services import report_usage_record

    with schema_context(get_public_schema_name()):
        return report_usage_record(tenant_id=tenant_id, usage_record_id=usage_record_id)


@shared_task(name="billing.tasks.report_pending_usage")
def report_pending_usage() -> int:
    """Periodic (beat): report overage that could not be reported when it was recorded."""
    from billing.models import UsageRecord
    from billing.services import report_usage_record

    with schema_context(get_public_schema_name()):
        pending = UsageRecord.objects.filter(
            overage_units__gt=0, reported_to_stripe_at__isnull=True
        ).values_list("tenant_id", "pk")[:1000]
        return sum(
            report_usage_record(tenant_id=tenant_id, usage_record_id=pk)
            for tenant_id, pk in list(pending)
        )


@shared_task(name="billing.tasks.deliver_double_event")
def deliver_double_event(event_id: str) -> int:
    """The local Stripe double sends one webhook (development and tests only)."""
    from billing.stripe_double.delivery import deliver

    return deliver(event_id)
