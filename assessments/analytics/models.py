"""Results analytics of one portal (tenant schema).

``ItemAnalysis`` holds the latest item analysis of one published ``ExamVersion`` (recomputed
in the background as attempts are submitted and graded). ``Certificate`` is what a passed
attempt earns: its ``code`` is the verification code printed on the PDF and checked on the
portal's public verification page. ``ReportJob`` is a bulk generation of certificates or
candidate reports for a cohort, producing a zip kept in the tenant's private media folder.
``LeaderboardSetting`` and ``LeaderboardOptIn`` are the two consents a leaderboard needs: the
exam's (a teacher turns it on) and each candidate's.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from assessments.delivery.models import Attempt
from assessments.exams.models import Cohort, Exam, ExamVersion

#: Letters of a certificate code: no 0/O or 1/I/L, so a code read aloud or typed is unambiguous.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_certificate_code() -> str:
    """``XXXX-XXXX-XXXX``: 60 bits, unguessable, easy to type."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


class ItemAnalysis(models.Model):
    """Item statistics of one exam version over its submitted attempts.

    ``summary`` holds the exam-level figures (attempts, mean, standard deviation, KR-20,
    Cronbach's alpha, standard error of measurement); ``items`` one dict per question asked
    in the version (facility, discriminations, omitted rate, distractors, flags).
    """

    version = models.OneToOneField(
        ExamVersion, on_delete=models.CASCADE, related_name="item_analysis"
    )
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="item_analyses")
    attempt_count = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    items = models.JSONField(default=list, encoder=DjangoJSONEncoder)
    computed_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["exam", "version"]
        verbose_name_plural = "item analyses"
        permissions = [("view_report", "Can view results analytics, reports and exports")]

    def __str__(self) -> str:
        return f"analysis of {self.version}"


class Certificate(models.Model):
    """A certificate for one passed attempt. The name, exam and result are copied at issue,
    so the verification page shows what the certificate says even if the exam is renamed."""

    attempt = models.OneToOneField(Attempt, on_delete=models.CASCADE, related_name="certificate")
    code = models.CharField(max_length=14, unique=True, default=new_certificate_code)
    candidate_name = models.CharField(max_length=255)
    exam_title = models.CharField(max_length=255)
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    passed_on = models.DateField()
    issued_at = models.DateTimeField(auto_now_add=True)
    revoked = models.BooleanField(default=False)

    class Meta:
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return self.code


def job_upload_path(job: ReportJob, filename: str) -> str:
    """Under ``imports/``, the media prefix ``tenants.views.serve_media`` never serves: the
    zip is only reachable through the permission-checked download view."""
    return f"imports/analytics/{secrets.token_hex(16)}/{filename}"


class ReportJob(models.Model):
    """Bulk certificates or candidate reports for a cohort, built by a background task."""

    class Kind(models.TextChoices):
        CERTIFICATES = "certificates", "Certificates (passed candidates)"
        REPORTS = "reports", "Candidate reports"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Generating"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    RUNNING = (Status.QUEUED, Status.RUNNING)

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="report_jobs")
    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.SET_NULL, related_name="report_jobs"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to=job_upload_path, max_length=300, blank=True)
    message = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} for exam {self.exam_id}"

    @property
    def percent_done(self) -> int:
        if not self.progress_total:
            return 100 if self.status == self.Status.DONE else 0
        return int(self.progress_done * 100 / self.progress_total)


class LeaderboardSetting(models.Model):
    """A teacher's switch: the exam has a leaderboard (off unless turned on)."""

    exam = models.OneToOneField(Exam, on_delete=models.CASCADE, related_name="leaderboard")
    enabled = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"leaderboard of exam {self.exam_id}: {'on' if self.enabled else 'off'}"


class LeaderboardOptIn(models.Model):
    """A candidate's consent to appear on one exam's leaderboard (absent: not shown)."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="leaderboard_opt_ins")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="leaderboard_opt_ins"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exam", "user"], name="analytics_optin_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on exam {self.exam_id}"
