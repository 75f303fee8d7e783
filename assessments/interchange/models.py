"""Background imports of question files (tenant schema).

An ``ImportJob`` keeps an uploaded file in the tenant's media storage while it is previewed
and committed, with its status, its progress and the preview an author reviews. The work is
done by ``assessments.interchange.jobs`` (inline for small files, in Celery tasks otherwise).
"""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.text import get_valid_filename

__all__ = ["ImportJob"]


def import_upload_path(job: ImportJob, filename: str) -> str:
    """``imports/<random>/<name>``: under the tenant's own media folder (the storage adds the
    schema), unguessable, and keeping the original name readable."""
    name = get_valid_filename(PurePath(filename).name)[-100:] or "upload"
    return f"imports/{uuid.uuid4().hex}/{name}"


class ImportJob(models.Model):
    """One uploaded question file on its way into the bank: previewed, reviewed, committed."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PREVIEWING = "previewing", "Reading the file"
        READY = "ready", "Preview ready"
        COMMITTING = "committing", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    #: Statuses in which background work is still going on (the page keeps polling).
    RUNNING = (Status.QUEUED, Status.PREVIEWING, Status.COMMITTING)

    file = models.FileField(upload_to=import_upload_path, max_length=300, blank=True)
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=20)
    size = models.PositiveBigIntegerField(default=0)
    background = models.BooleanField(default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    preview = models.JSONField(
        encoder=DjangoJSONEncoder,
        null=True,
        blank=True,
        help_text="The preview as ImportPreview.as_dict(): items, warnings, errors.",
    )
    message = models.TextField(blank=True, help_text="Why the job failed, in words.")
    created_count = models.PositiveIntegerField(default=0)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="question_imports",
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["author", "-created"], name="assessments_importjob_author")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(progress_done__lte=models.F("progress_total"))
                | models.Q(progress_total=0),
                name="assessments_importjob_progress_within_total",
            )
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def has_errors(self) -> bool:
        return bool(self.preview and self.preview.get("errors"))
