"""Import jobs: an uploaded file previewed, reviewed by its author, then committed.

Small files (up to ``VIVA_IMPORT_INLINE_MAX_BYTES``, default 1 MB) are previewed and committed
inside the request. Larger ones are stored and handed to Celery tasks
(``assessments.interchange.tasks``) sent after commit with the tenant's schema; the tasks
re-enter that schema, record progress on the job as they go, and the author's page polls it.

A file that cannot be read at all is refused before anything is stored when it is previewed
inline, and turns its job ``failed`` (its file deleted) in the background. Committing is all
or nothing (``services.commit_import``), and a job's file is deleted once it is imported,
failed or discarded.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from assessments.interchange.base import MAX_FILE_BYTES, InterchangeError
from assessments.interchange.formats import FORMAT_MODULES
from assessments.interchange.models import ImportJob
from assessments.interchange.services import commit_import, preview_import

logger = logging.getLogger(__name__)

#: Files up to this size are previewed and committed inside the request.
DEFAULT_INLINE_MAX_BYTES = 1024 * 1024

#: File name endings and the format they mean ("auto" on the upload form).
EXTENSIONS = {
    ".json": "json",
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".gift": "gift",
    ".txt": "gift",
    ".zip": "qti",
    ".pdf": "pdf",
}


class ImportJobError(ValueError):
    """A refused step of an import job (wrong state, errors in the file), in words."""


def inline_max_bytes() -> int:
    return int(getattr(settings, "VIVA_IMPORT_INLINE_MAX_BYTES", DEFAULT_INLINE_MAX_BYTES))


def detect_format(*, filename: str, data: bytes) -> str:
    """The format a file's name (and, for ``.xml``, its root element) says it is in."""
    name = filename.lower()
    if name.endswith(".xml"):
        head = data[:4096].decode("utf-8", errors="ignore")
        return "qti" if "assessmentItem" in head or "assessment-item" in head else "moodle-xml"
    for ending, key in EXTENSIONS.items():
        if name.endswith(ending):
            return key
    raise InterchangeError(
        f"The format of “{filename}” cannot be told from its name; choose the format "
        f"(known endings: {', '.join(sorted({*EXTENSIONS, '.xml'}))})."
    )


# -- reads --------------------------------------------------------------------------------


def jobs_of(*, user: Any) -> QuerySet[ImportJob]:
    """``user``'s own import jobs in the current schema, newest first."""
    return ImportJob.objects.filter(author_id=user.pk).order_by("-created", "-id")


def job_of(*, user: Any, job_id: int) -> ImportJob | None:
    """One of ``user``'s jobs, or ``None`` (another person's or tenant's id finds nothing)."""
    return jobs_of(user=user).filter(pk=job_id).first()


# -- writes -------------------------------------------------------------------------------


def start_import(*, upload: UploadedFile, author: Any, format: str | None = None) -> ImportJob:  # noqa: A002
    """Store an upload as a job. Small files are previewed now (``ready``, or refused with
    ``InterchangeError`` storing nothing); larger ones are ``queued`` for a background
    preview sent after commit."""
    filename = upload.name or "upload"
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise InterchangeError(
            f"The file is {upload.size / 1048576:.1f} MB; the limit is "
            f"{MAX_FILE_BYTES // 1048576} MB."
        )
    data = upload.read()
    if not data:
        raise InterchangeError("The file is empty.")
    key = format or detect_format(filename=filename, data=data)
    if key not in FORMAT_MODULES:
        raise InterchangeError(f"Unknown format '{key}'.")
    upload.seek(0)
    background = len(data) > inline_max_bytes()
    job = ImportJob(
        filename=filename[:255], format=key, size=len(data), author=author, background=background
    )
    if not background:
        preview = preview_import(format=key, data=data, filename=filename)
        total = len(preview.items)
        job.status = ImportJob.Status.READY
        job.preview = preview.as_dict()
        job.progress_done = job.progress_total = total
    with transaction.atomic():
        job.file.save(job.filename, upload, save=False)
        job.save()
        if background:
            schema = connection.schema_name
            transaction.on_commit(lambda: _send("preview", job.pk, schema))
    return job


def run_preview(*, job_id: int) -> ImportJob | None:
    """Background preview of a queued job (called by the task, in the job's schema)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != ImportJob.Status.QUEUED:
            return job  # discarded, or already taken by another delivery of the task
        job.status = ImportJob.Status.PREVIEWING
        job.save(update_fields=["status", "updated"])
    try:
        data = _read(job)
        preview = preview_import(
            format=job.format, data=data, filename=job.filename, progress=_reporter(job)
        )
    except InterchangeError as exc:
        return _fail(job, str(exc))
    except Exception:
        logger.exception("Import job %s: preview failed", job.pk)
        return _fail(job, "The file could not be read because of an unexpected error.")
    total = len(preview.items)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.READY,
        preview=preview.as_dict(),
        progress_done=total,
        progress_total=total,
        updated=timezone.now(),
    )
    job.refresh_from_db()
    return job


def commit_job(*, job: ImportJob, by: Any) -> ImportJob:
    """Import a reviewed job's questions, all or nothing: now for a small file, in the
    background for a large one. Refused unless the job is ``ready`` and its preview clean."""
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().get(pk=job.pk)
        if current.status != ImportJob.Status.READY:
            raise ImportJobError(
                f"This import is {current.get_status_display().lower()}; "
                "only a ready preview can be imported."
            )
        if current.has_errors:
            raise ImportJobError(
                f"The file has {len(current.preview['errors'])} error(s); nothing was imported. "
                "Fix them and upload the file again."
            )
        current.status = ImportJob.Status.COMMITTING
        current.progress_done = 0
        current.save(update_fields=["status", "progress_done", "updated"])
        if current.background:
            schema = connection.schema_name
            transaction.on_commit(lambda: _send("commit", current.pk, schema))
    if not current.background:
        return run_commit(job_id=current.pk) or current
    return current


def run_commit(*, job_id: int) -> ImportJob | None:
    """Store a committing job's questions in one transaction (called inline or by the task)."""
    job = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.COMMITTING).first()
    if job is None:
        return None
    try:
        data = _read(job)
        preview = preview_import(format=job.format, data=data, filename=job.filename)
        created = commit_import(preview=preview, author=job.author, progress=_reporter(job))
    except InterchangeError as exc:
        return _fail(job, f"{exc} Nothing was imported.")
    except Exception:
        logger.exception("Import job %s: commit failed", job.pk)
        return _fail(job, "The import failed because of an unexpected error; nothing was imported.")
    job.file.delete(save=False)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.DONE,
        file="",
        created_count=len(created),
        progress_done=len(created),
        progress_total=len(created),
        finished_at=timezone.now(),
        updated=timezone.now(),
    )
    job.refresh_from_db()
    return job


def discard_job(*, job: ImportJob) -> None:
    """Forget a job that is not running: its file and row are deleted."""
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().get(pk=job.pk)
        if current.is_running:
            raise ImportJobError("This import is still running; wait for it to finish.")
        if current.file:
            current.file.delete(save=False)
        current.delete()


# -- helpers ------------------------------------------------------------------------------


def _send(step: str, job_id: int, schema: str) -> None:
    from assessments.interchange import tasks

    task = tasks.preview_import_job if step == "preview" else tasks.commit_import_job
    task.delay(job_id, schema)


def _read(job: ImportJob) -> bytes:
    if not job.file:
        raise InterchangeError("The uploaded file is no longer stored; upload it again.")
    try:
        with job.file.open("rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise InterchangeError("The uploaded file is no longer stored; upload it again.") from None


def _reporter(job: ImportJob):
    def report(done: int, total: int) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            progress_done=min(done, total), progress_total=total, updated=timezone.now()
        )

    return report


def _fail(job: ImportJob, message: str) -> ImportJob:
    if job.file:
        job.file.delete(save=False)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED,
        message=message,
        file="",
        finished_at=timezone.now(),
        updated=timezone.now(),
    )
    job.refresh_from_db()
    return job
