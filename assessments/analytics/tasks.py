"""Background work of results analytics. Every task takes the schema it belongs to and
re-enters it (on top of tenant-schemas-celery doing so from the message), so work queued for
portal A only ever reads and writes A's schema and A's media folder."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django_tenants.utils import schema_context

from assessments.exams.models import ExamVersion

from . import services


@shared_task(name="assessments.analytics.tasks.refresh_item_analysis")
def refresh_item_analysis(version_id: int, schema_name: str) -> int | None:
    """Recompute one version's item analysis; returns the number of attempts it covers."""
    with schema_context(schema_name):
        cache.delete(services.pending_key(version_id))
        version = ExamVersion.objects.filter(pk=version_id).first()
        if version is None:
            return None
        return services.compute_item_analysis(version=version).attempt_count


@shared_task(name="assessments.analytics.tasks.build_report_job")
def build_report_job(job_id: int, schema_name: str) -> str | None:
    """Build one bulk certificate/report zip (see ``services.run_report_job``)."""
    with schema_context(schema_name):
        job = services.run_report_job(job_id=job_id)
        return job.status if job else None
