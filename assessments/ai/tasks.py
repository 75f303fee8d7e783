"""Background work of the AI features: grading an exam, computing a plagiarism report.

Each task is sent after commit with the job's id and the schema it was created in, and
re-enters that schema itself (on top of tenant-schemas-celery doing so from the message), so
a job of tenant A only ever reads and writes A's rows — and every AI call it makes is metered
to A.
"""

from __future__ import annotations

from celery import shared_task
from django_tenants.utils import schema_context


@shared_task(name="assessments.ai.tasks.run_grading_job")
def run_grading_job(job_id: int, schema_name: str) -> str | None:
    from assessments.ai import grading

    with schema_context(schema_name):
        job = grading.run_grading_job(job_id=job_id)
        return job.status if job else None


@shared_task(name="assessments.ai.tasks.run_plagiarism_report")
def run_plagiarism_report(report_id: int, schema_name: str) -> str | None:
    from assessments.ai import plagiarism

    with schema_context(schema_name):
        report = plagiarism.run_report(report_id=report_id)
        return report.status if report else None
