"""Attempts, responses and integrity events (tenant schema).

An ``Attempt`` belongs to one published ``ExamVersion``; the questions it asks are drawn once,
at start, and frozen in ``items`` (the version's pinned question snapshots, with position and
option seed). Its ``deadline`` is fixed by the server at start (time limit plus the
candidate's extra time, capped by the window close) and only a proctor moves it.

A ``Response`` is one row per asked item, upserted by autosave: a write carries a per-attempt
sequence number and lands only when it is higher than the stored one, so an old tab never
overwrites a newer answer. ``IntegrityEvent`` is the append-only timeline a reviewer reads.
``ProctoringSnapshot`` is one webcam image of an attempt, kept under the never-served
``proctoring/`` media prefix and deleted after ``VIVA_PROCTORING_RETENTION_DAYS``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from assessments.exams.models import Exam, ExamVersion


class Attempt(models.Model):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"
        ABANDONED = "abandoned", "Abandoned"

    class ClosedBy(models.TextChoices):
        CANDIDATE = "candidate", "Submitted by the candidate"
        DEADLINE = "deadline", "Closed at the deadline"
        PROCTOR = "proctor", "Closed by a proctor"

    class Grading(models.TextChoices):
        PENDING = "pending", "Not graded yet"
        NEEDS_MANUAL = "needs_manual", "Waiting for manual grading"
        GRADED = "graded", "Graded"

    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="attempts")
    version = models.ForeignKey(ExamVersion, on_delete=models.PROTECT, related_name="attempts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="exam_attempts"
    )
    number = models.PositiveIntegerField(help_text="1 for the candidate's first attempt, …")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    seed = models.CharField(max_length=32)
    items = models.JSONField(encoder=DjangoJSONEncoder, help_text="The drawn questions, frozen.")
    item_count = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    deadline = models.DateTimeField(null=True, blank=True, help_text="Empty: no deadline.")
    grace_seconds = models.PositiveIntegerField(default=0)
    overdue_policy = models.CharField(max_length=12, choices=Exam.OverduePolicy.choices)
    # Sequential navigation: answers are taken only at or after ``current_position``.
    sequential = models.BooleanField(default=False)
    current_position = models.PositiveIntegerField(default=1)
    submitted_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=10, choices=ClosedBy.choices, blank=True)
    # Where the attempt is being taken from: integrity signals compare against these.
    session_key_hash = models.CharField(max_length=64, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True)
    grading = models.CharField(max_length=12, choices=Grading.choices, default=Grading.PENDING)
    score = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(null=True, blank=True)
    results_released = models.BooleanField(
        default=False, help_text="Set when the exam's release policy lets the candidate see them."
    )
    # Webcam proctoring, fixed at start: the interval is empty when nothing is captured (the
    # version does not ask for it, or the portal's plan no longer includes it).
    webcam_interval_seconds = models.PositiveIntegerField(null=True, blank=True)
    webcam_consent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the candidate agreed to camera snapshots."
    )

    class Meta:
        ordering = ["-started_at", "-id"]
        permissions = [("proctor_attempt", "Can proctor attempts (add time, close)")]
        constraints = [
            models.UniqueConstraint(
                fields=["exam", "user", "number"], name="delivery_attempt_unique_number"
            ),
            models.UniqueConstraint(
                fields=["exam", "user"],
                condition=models.Q(status="in_progress"),
                name="delivery_attempt_one_open_per_exam",
            ),
        ]
        indexes = [
            models.Index(
                fields=["deadline"],
                condition=models.Q(status="in_progress"),
                name="delivery_attempt_open_deadline",
            )
        ]

    def __str__(self) -> str:
        return f"{self.exam_id}/{self.user_id}#{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.IN_PROGRESS

    @property
    def captures_webcam(self) -> bool:
        return self.webcam_interval_seconds is not None


class Response(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    position = models.PositiveIntegerField()
    value = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    flagged = models.BooleanField(default=False)
    seq = models.BigIntegerField(default=0)
    saved_at = models.DateTimeField()
    score = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    correct = models.BooleanField(null=True, blank=True)
    feedback = models.JSONField(default=list, blank=True)
    needs_manual = models.BooleanField(default=False)
    rubric_scores = models.JSONField(default=dict, blank=True)
    graded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    graded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["attempt", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "position"], name="delivery_response_one_per_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id}@{self.position}"


class IntegrityEvent(models.Model):
    class Kind(models.TextChoices):
        TAB_HIDDEN = "tab_hidden", "Tab hidden"
        TAB_VISIBLE = "tab_visible", "Tab visible again"
        WINDOW_BLUR = "window_blur", "Window lost focus"
        WINDOW_FOCUS = "window_focus", "Window focused again"
        PASTE = "paste", "Pasted text"
        FULLSCREEN_EXIT = "fullscreen_exit", "Left full screen"
        SECOND_SESSION = "second_session", "Opened in a second session"
        IP_CHANGE = "ip_change", "Network address changed"
        DEVICE_CHANGE = "device_change", "Browser or device changed"
        NETWORK_REFUSED = "network_refused", "Refused: network not allowed"
        SESSION_REFUSED = "session_refused", "Refused: another session holds the attempt"
        OFFLINE = "offline", "Went offline"
        ONLINE = "online", "Back online"
        TIME_ADDED = "time_added", "Proctor added time"
        CLOSED_BY_PROCTOR = "closed_by_proctor", "Proctor closed the attempt"
        CAMERA_ON = "camera_on", "Camera on"
        CAMERA_OFF = "camera_off", "Camera stopped"
        CAMERA_REFUSED = "camera_refused", "Camera refused or unavailable"
        WEBCAM_NOT_IN_PLAN = "webcam_not_in_plan", "No webcam capture: not in the portal's plan"

    #: Kinds a candidate's browser may report; the rest are recorded by the server only.
    CLIENT_KINDS = frozenset(
        {
            Kind.TAB_HIDDEN,
            Kind.TAB_VISIBLE,
            Kind.WINDOW_BLUR,
            Kind.WINDOW_FOCUS,
            Kind.PASTE,
            Kind.FULLSCREEN_EXIT,
            Kind.OFFLINE,
            Kind.ONLINE,
            Kind.CAMERA_ON,
            Kind.CAMERA_OFF,
            Kind.CAMERA_REFUSED,
        }
    )
    #: Kinds shown as flags to a proctor or reviewer (the rest are context).
    FLAG_KINDS = frozenset(
        {
            Kind.TAB_HIDDEN,
            Kind.WINDOW_BLUR,
            Kind.PASTE,
            Kind.FULLSCREEN_EXIT,
            Kind.SECOND_SESSION,
            Kind.IP_CHANGE,
            Kind.DEVICE_CHANGE,
            Kind.NETWORK_REFUSED,
            Kind.SESSION_REFUSED,
            Kind.CAMERA_OFF,
            Kind.CAMERA_REFUSED,
        }
    )

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField(help_text="Server time the event was received.")
    client_at = models.DateTimeField(null=True, blank=True, help_text="As the browser said.")
    detail = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        ordering = ["attempt", "at", "id"]
        indexes = [models.Index(fields=["attempt", "kind"], name="delivery_event_kind")]

    def __str__(self) -> str:
        return f"{self.attempt_id} {self.kind}"

    @property
    def is_flag(self) -> bool:
        return self.kind in self.FLAG_KINDS


def snapshot_upload_path(instance: ProctoringSnapshot, filename: str) -> str:
    """``proctoring/<attempt>/<random>.jpg`` in the tenant's media folder: a name nobody can
    guess, under a prefix ``tenants.views.serve_media`` never serves."""
    return f"proctoring/{instance.attempt_id}/{uuid.uuid4().hex}.jpg"


class ProctoringSnapshot(models.Model):
    """One webcam image of an attempt, as uploaded by the candidate's browser (a JPEG)."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(help_text="Server time the image was received.")
    file = models.FileField(upload_to=snapshot_upload_path, max_length=200)
    bytes = models.PositiveIntegerField()

    class Meta:
        ordering = ["attempt", "taken_at", "id"]
        indexes = [
            models.Index(fields=["attempt", "taken_at"], name="delivery_snapshot_attempt"),
            models.Index(fields=["taken_at"], name="delivery_snapshot_taken_at"),
        ]

    def __str__(self) -> str:
        return f"{self.attempt_id} snapshot {self.taken_at:%H:%M:%S}"
