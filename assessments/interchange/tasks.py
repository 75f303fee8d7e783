"""Background work of question imports: preview and commit one ``ImportJob``.

Each task is sent after commit with the job id and the schema it belongs to, and re-enters
that schema itself (on top of tenant-schemas-celery doing so from the message), so a job of
tenant A is only ever read and written in A's schema and A's media folder.
"""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context

from assessments.interchange import jobs


@shared_task(name="assessments.interchange.tasks.preview_import_job")
def preview_import_job(job_id: int, schema_name: str) -> str | None:
    """Read and check a queued job's file, recording progress; the job becomes ``ready``
    (or ``failed`` with the reason)."""
    with schema_context(schema_name):
        job = jobs.run_preview(job_id=job_id)
        return job.status if job else None


@shared_task(name="assessments.interchange.tasks.commit_import_job")
def commit_import_job(job_id: int, schema_name: str) -> str | None:
    """Store a reviewed job's questions, all or nothing; the job becomes ``done`` or
    ``failed``."""
    with schema_context(schema_name):
        job = jobs.run_commit(job_id=job_id)
        return job.status if job else None
