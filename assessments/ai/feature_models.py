"""What the AI features store in a portal's schema: generation batches waiting for review, the
grading policy, grading jobs and their suggestions, plagiarism reports and their pairs.

Imported by ``assessments/models.py`` so the models belong to the ``assessments`` app (one
migration history with the bank and exams). Nothing here is written by ``save()`` logic: the
services in ``generation``, ``grading`` and ``plagiarism`` do the work.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

__all__ = [
    "AIGradingJob",
    "AIGradingPolicy",
    "AISuggestion",
    "GenerationBatch",
    "PlagiarismPair",
    "PlagiarismReport",
]


class GenerationBatch(models.Model):
    """Drafts a provider proposed, kept until their author picks which ones become draft
    questions. ``drafts`` holds each draft (Viva's question JSON plus rationale), its
    validation errors, its duplicates in the bank and, once saved, the question id, as
    ``{"items": [...], "note": "why the duplicate check could not run, if it could not"}``."""

    source = models.CharField(max_length=20)  # "topic" | "text" | "document"
    topic = models.CharField(max_length=255, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    drafts = models.JSONField(encoder=DjangoJSONEncoder, default=dict)
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.CharField(max_length=60, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self) -> str:
        return f"generation {self.pk} ({self.source})"


class AIGradingPolicy(models.Model):
    """The portal's AI grading setting (one row): suggestions whose confidence is below
    ``confidence_threshold`` are marked for a person to grade."""

    enabled = models.BooleanField(default=True)
    confidence_threshold = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.70"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    updated = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "AI grading policy"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidence_threshold__gte=0, confidence_threshold__lte=1),
                name="assessments_aigradingpolicy_threshold_0_to_1",
            )
        ]

    def __str__(self) -> str:
        return f"AI grading ≥ {self.confidence_threshold}"


class _Job(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    RUNNING_STATES = (Status.QUEUED, Status.RUNNING)

    exam = models.ForeignKey("assessments.Exam", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True, help_text="Why the job failed, in words.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created", "-id"]

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING_STATES

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 100 if self.status == self.Status.DONE else 0
        return int(100 * self.progress_done / self.progress_total)


class AIGradingJob(_Job):
    """One run of AI grading over an exam's submitted essays and short answers."""

    suggested = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta(_Job.Meta):
        abstract = False

    def __str__(self) -> str:
        return f"AI grading of exam {self.exam_id} ({self.status})"


class AISuggestion(models.Model):
    """The AI's proposed grade for one response, explained per criterion.

    ``criterion_scores`` lists ``{"criterion_id", "criterion", "points", "max_points",
    "rationale"}`` (points as decimal strings, on the rubric's scale); ``total`` is on the
    item's scale (what ``grade_response`` would store). The response itself is untouched
    until a grader confirms or overrides (``status``); a failed suggestion keeps ``reason``.
    """

    class Status(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        CONFIRMED = "confirmed", "Confirmed by a grader"
        OVERRIDDEN = "overridden", "Overridden by a grader"
        FAILED = "failed", "Failed"

    response = models.OneToOneField(
        "delivery.Response", on_delete=models.CASCADE, related_name="ai_suggestion"
    )
    exam = models.ForeignKey("assessments.Exam", on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(
        AIGradingJob, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestions"
    )
    status = models.CharField(max_length=12, choices=Status.choices)
    reason = models.TextField(blank=True, help_text="Why the AI could not grade it.")
    criterion_scores = models.JSONField(encoder=DjangoJSONEncoder, default=list)
    summary = models.TextField(blank=True)
    total = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    max_score = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    needs_human = models.BooleanField(
        default=True, help_text="Confidence below the portal's threshold when suggested."
    )
    provider = models.CharField(max_length=40, blank=True)
    model = models.CharField(max_length=100, blank=True)
    prompt_version = models.CharField(max_length=60, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["exam", "response"]
        indexes = [models.Index(fields=["exam", "status"], name="assessments_aisugg_exam_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidence__isnull=True)
                | models.Q(confidence__gte=0, confidence__lte=1),
                name="assessments_aisuggestion_confidence_0_to_1",
            )
        ]

    def __str__(self) -> str:
        return f"AI suggestion for response {self.response_id} ({self.status})"


class PlagiarismReport(_Job):
    """Suspiciously similar responses of one exam (optionally one version), with clusters.

    ``clusters`` lists ``{"id", "responses": [response ids], "position"/"question"}``;
    ``settings`` keeps the thresholds used, so a report says how it was made."""

    version = models.ForeignKey(
        "assessments.ExamVersion", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    responses_count = models.PositiveIntegerField(default=0)
    pairs_count = models.PositiveIntegerField(default=0)
    clusters = models.JSONField(encoder=DjangoJSONEncoder, default=list)
    settings = models.JSONField(encoder=DjangoJSONEncoder, default=dict)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta(_Job.Meta):
        abstract = False

    def __str__(self) -> str:
        return f"plagiarism report of exam {self.exam_id} ({self.status})"


class PlagiarismPair(models.Model):
    """Two responses to the same question that look copied, with the evidence: the MinHash
    estimate of their shingle Jaccard similarity, their sentence alignment (``cosine``: the
    mean best cosine of each sentence with the other side's, topic removed) and the matching
    passages (``passages``: ``{"a": [[text, matched], …], "b": […], "matched_words",
    "longest_run"}``)."""

    report = models.ForeignKey(PlagiarismReport, on_delete=models.CASCADE, related_name="pairs")
    response_a = models.ForeignKey("delivery.Response", on_delete=models.CASCADE, related_name="+")
    response_b = models.ForeignKey("delivery.Response", on_delete=models.CASCADE, related_name="+")
    question_id = models.PositiveIntegerField(null=True, blank=True)
    jaccard = models.FloatField()
    cosine = models.FloatField(null=True, blank=True)
    matched_words = models.PositiveIntegerField(default=0)
    reason = models.CharField(max_length=20)  # "copied" | "paraphrased" | "both"
    cluster = models.PositiveIntegerField(default=0)
    passages = models.JSONField(encoder=DjangoJSONEncoder, default=dict)

    class Meta:
        ordering = ["report", "-jaccard", "-cosine", "id"]
        indexes = [models.Index(fields=["report", "cluster"], name="assessments_plagpair_cluster")]

    def __str__(self) -> str:
        return f"{self.response_a_id}~{self.response_b_id}"
