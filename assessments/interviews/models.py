"""Interview templates, practice sessions and hiring panels (tenant schema, label ``interviews``).

- ``InterviewTemplate`` / ``TemplateQuestion``: questions by industry and role, authored in
  the portal admin (*Interviews → Templates*).
- ``InterviewSession`` / ``Turn``: a candidate's practice run, one turn per question asked
  (follow-ups included), with the transcript, timings, the provider's feedback and its usage.
- ``Position`` / ``PositionCandidate`` / ``PanelInterview`` / ``PanelReview``: hiring mode.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, InlinePanel
from wagtail.models import Orderable


class Industry(models.TextChoices):
    TECHNOLOGY = "technology", "Technology"
    FINANCE = "finance", "Finance"
    HEALTHCARE = "healthcare", "Healthcare"
    CONSULTING = "consulting", "Consulting"
    EDUCATION = "education", "Education"
    OTHER = "other", "Other"


class InterviewTemplate(ClusterableModel):
    """An interview for one role in one industry: the competencies it tests and its questions.
    Only published templates are offered to candidates for practice."""

    title = models.CharField(max_length=200)
    industry = models.CharField(max_length=20, choices=Industry.choices)
    role = models.CharField(max_length=120, help_text="e.g. Software engineer, Staff nurse")
    competencies = models.TextField(
        help_text="One competency per line, e.g. Teamwork, Problem solving, Communication."
    )
    description = models.TextField(blank=True)
    published = models.BooleanField(default=True, help_text="Offered to candidates to practise.")
    # Provenance of a template installed from the marketplace: ids of public rows (a listing
    # and its version number), never a foreign key across schemas. Empty when authored here.
    source_listing_id = models.PositiveIntegerField(null=True, blank=True, editable=False)
    source_version = models.PositiveIntegerField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    panels = [
        FieldPanel("title"),
        FieldPanel("industry"),
        FieldPanel("role"),
        FieldPanel("competencies"),
        FieldPanel("description"),
        FieldPanel("published"),
        InlinePanel("questions", label="Questions", min_num=1),
    ]

    class Meta:
        ordering = ["industry", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_listing_id"],
                condition=models.Q(source_listing_id__isnull=False),
                name="interviews_one_template_per_listing",
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_industry_display()})"

    @property
    def from_marketplace(self) -> str:
        """“Listing 12, version 2” for an installed template; empty for one authored here."""
        if self.source_listing_id is None:
            return ""
        return f"Marketplace listing {self.source_listing_id}, version {self.source_version}"

    @property
    def competency_list(self) -> list[str]:
        return [line.strip() for line in self.competencies.splitlines() if line.strip()]


class TemplateQuestion(Orderable):
    class Kind(models.TextChoices):
        BEHAVIOURAL = "behavioural", "Behavioural"
        TECHNICAL = "technical", "Technical"
        SITUATIONAL = "situational", "Situational"

    template = ParentalKey(InterviewTemplate, on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.BEHAVIOURAL)
    competency = models.CharField(max_length=80)
    prompt = models.TextField()
    ideal_answer_notes = models.TextField(
        blank=True, help_text="What a strong answer covers (shown to the candidate afterwards)."
    )
    # The question's ``ref`` in the marketplace document it was installed from, so an update
    # tells the publisher's changed questions from the buyer's own. Empty when authored here.
    source_ref = models.CharField(max_length=40, blank=True, editable=False)

    panels = [
        FieldPanel("kind"),
        FieldPanel("competency"),
        FieldPanel("prompt"),
        FieldPanel("ideal_answer_notes"),
    ]

    def __str__(self) -> str:
        return self.prompt[:80]


class InterviewSession(models.Model):
    """One practice run of a template by a candidate."""

    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interview_sessions"
    )
    template = models.ForeignKey(
        InterviewTemplate, on_delete=models.PROTECT, related_name="sessions"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)
    score = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.template.title} by {self.user_id} ({self.status})"


class Turn(models.Model):
    """One question asked in a session and the candidate's answer to it."""

    class InputMode(models.TextChoices):
        TYPED = "typed", "Typed"
        SPOKEN = "spoken", "Spoken"

    session = models.ForeignKey(InterviewSession, on_delete=models.CASCADE, related_name="turns")
    position = models.PositiveIntegerField()
    question = models.ForeignKey(
        TemplateQuestion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    follow_up_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups"
    )
    prompt = models.TextField()  # a copy: editing the template never changes a past session
    competency = models.CharField(max_length=80, blank=True)
    kind = models.CharField(max_length=12, blank=True)
    transcript = models.TextField(blank=True)
    input_mode = models.CharField(max_length=8, choices=InputMode.choices, blank=True)
    asked_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    speaking_seconds = models.FloatField(null=True, blank=True)  # reported by the browser
    feedback = models.JSONField(default=dict, blank=True)
    ai_usage = models.JSONField(default=dict, blank=True)
    score = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)

    class Meta:
        ordering = ["session", "position"]
        constraints = [
            models.UniqueConstraint(fields=["session", "position"], name="interviews_turn_position")
        ]

    def __str__(self) -> str:
        return f"Turn {self.position} of session {self.session_id}"

    @property
    def answered(self) -> bool:
        return self.submitted_at is not None


# -- hiring mode --------------------------------------------------------------------------


class Position(models.Model):
    """A job opening assessed by an interview template, an exam, or both, with the rubric
    every panel reviewer scores against."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    template = models.ForeignKey(
        InterviewTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    exam = models.ForeignKey(
        "assessments.Exam", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # [{"id": "c1", "criterion": "Explains trade-offs", "competency": "Problem solving",
    #   "max_points": 5}, ...]
    rubric = models.JSONField(default=list)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created", "-id"]
        permissions = [
            ("manage_hiring", "Can run hiring: positions, invitations, panels, feedback"),
            ("review_panel", "Can score panel interviews they sit on"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def rubric_max(self) -> Decimal:
        return sum((Decimal(str(c["max_points"])) for c in self.rubric), Decimal(0))


class PositionCandidate(models.Model):
    position = models.ForeignKey(Position, on_delete=models.CASCADE, related_name="candidates")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="position_candidacies"
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_at = models.DateTimeField()
    feedback = models.TextField(blank=True)
    feedback_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "invited_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["position", "user"], name="interviews_one_candidacy")
        ]

    def __str__(self) -> str:
        return f"{self.user} for {self.position}"


class PanelInterview(models.Model):
    """A live interview of one candidate by a panel; calendar invites carry ``uid``."""

    candidate = models.ForeignKey(
        PositionCandidate, on_delete=models.CASCADE, related_name="panels"
    )
    starts_at = models.DateTimeField()  # stored in UTC
    duration_minutes = models.PositiveIntegerField(default=45)
    timezone = models.CharField(max_length=64, default="UTC")  # the organiser's zone (IANA)
    location = models.CharField(max_length=300, blank=True)
    reviewers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="panel_interviews")
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    # Set when the panel is called off (a METHOD:CANCEL went out); kept for the record.
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "id"]

    def __str__(self) -> str:
        return f"Panel for {self.candidate} at {self.starts_at:%Y-%m-%d %H:%M} UTC"


class PanelReview(models.Model):
    """One reviewer's rubric scores for one panel interview (submitted once, then fixed)."""

    panel = models.ForeignKey(PanelInterview, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="panel_reviews"
    )
    scores = models.JSONField(default=dict)  # {criterion id: points (decimal string)}
    total = models.DecimalField(max_digits=7, decimal_places=2)
    comments = models.TextField(blank=True)
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["panel", "reviewer"], name="interviews_one_review")
        ]

    def __str__(self) -> str:
        return f"Review by {self.reviewer_id} of panel {self.panel_id}"
