"""Exams of one portal (tenant schema).

An ``Exam`` is the editable draft: its settings, ``ExamSection``s and their ``SectionItem``s
(a fixed question, or a pool rule drawing ``count`` questions at random). Publishing it
(``services.publish_exam``) freezes everything an attempt needs into a new ``ExamVersion``
whose ``snapshot`` never changes again; attempts point to a version, never to the exam.
``Cohort``s and ``ExamAssignment``s say who may sit an exam, with per-candidate extra time and
window overrides (``selectors.effective_window``).
"""

from __future__ import annotations

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

__all__ = [
    "Cohort",
    "Exam",
    "ExamAssignment",
    "ExamSection",
    "ExamVersion",
    "ImmutableVersionError",
    "SectionItem",
]


class ImmutableVersionError(Exception):
    """Raised on any attempt to change or delete a published exam version."""


class Exam(models.Model):
    """An exam being authored: settings and sections. Published versions freeze it."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    class Navigation(models.TextChoices):
        FREE = "free", "Free (any order, go back)"
        SEQUENTIAL = "sequential", "Sequential (no going back)"

    class ResultsRelease(models.TextChoices):
        IMMEDIATELY = "immediately", "Immediately after submitting"
        AFTER_CLOSE = "after_close", "After the exam closes"
        MANUAL = "manual", "When released by hand"

    class ProctoringLevel(models.TextChoices):
        NONE = "none", "None"
        RECORD = "record", "Record integrity signals"
        STRICT = "strict", "Strict (one session, allowlisted networks)"

    class OverduePolicy(models.TextChoices):
        AUTO_SUBMIT = "auto_submit", "Submit automatically at the deadline"
        GRACE = "grace", "Accept answers for the grace period, then submit"
        ABANDON = "abandon", "Abandon (not graded)"

    title = models.CharField(max_length=255)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    opens_at = models.DateTimeField(null=True, blank=True, help_text="Empty: open at once.")
    closes_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never closes.")
    time_limit_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no time limit."
    )
    attempts_allowed = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1)]
    )
    navigation = models.CharField(
        max_length=10, choices=Navigation.choices, default=Navigation.FREE
    )
    shuffle_questions = models.BooleanField(default=False)
    shuffle_options = models.BooleanField(default=False)
    pass_mark_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=50,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    results_release = models.CharField(
        max_length=12, choices=ResultsRelease.choices, default=ResultsRelease.IMMEDIATELY
    )
    proctoring_level = models.CharField(
        max_length=10, choices=ProctoringLevel.choices, default=ProctoringLevel.NONE
    )
    grace_seconds = models.PositiveIntegerField(
        default=30, help_text="Answers arriving this long after the deadline are still taken."
    )
    overdue_policy = models.CharField(
        max_length=12, choices=OverduePolicy.choices, default=OverduePolicy.AUTO_SUBMIT
    )
    ip_allowlist = models.TextField(
        blank=True,
        help_text="Networks the exam may be taken from, one per line (e.g. 10.1.0.0/16). "
        "Empty: anywhere.",
    )
    # Webcam proctoring (a plan feature): the candidate's browser uploads a small snapshot
    # every ``webcam_interval_seconds`` (see ``assessments.delivery.proctoring``).
    webcam_proctoring = models.BooleanField(
        default=False,
        help_text="Candidates agree to camera snapshots before they start; proctors see them.",
    )
    webcam_interval_seconds = models.PositiveIntegerField(
        default=60, help_text="Seconds between two snapshots, from 30 to 300."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated", "-id"]
        permissions = [("grade_exam", "Can grade exam")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(opens_at__isnull=True)
                | models.Q(closes_at__isnull=True)
                | models.Q(closes_at__gt=models.F("opens_at")),
                name="assessments_exam_closes_after_opens",
            ),
            models.CheckConstraint(
                condition=models.Q(pass_mark_percent__gte=0, pass_mark_percent__lte=100),
                name="assessments_exam_pass_mark_0_to_100",
            ),
            models.CheckConstraint(
                condition=models.Q(time_limit_minutes__isnull=True)
                | models.Q(time_limit_minutes__gt=0),
                name="assessments_exam_time_limit_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ExamSection(models.Model):
    """A titled part of an exam with instructions; its items are asked in ``position`` order."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="sections")
    title = models.CharField(max_length=255)
    position = models.PositiveIntegerField()
    instructions = models.TextField(blank=True, help_text="HTML, sanitised on save.")

    class Meta:
        ordering = ["exam", "position", "id"]

    def __str__(self) -> str:
        return self.title


class SectionItem(models.Model):
    """One slot of a section: either a fixed ``question`` or a pool rule that draws ``count``
    active questions matching category (and optionally its subcategories), every tag in
    ``tags`` and the difficulty range. ``points`` overrides the question's own points."""

    section = models.ForeignKey(ExamSection, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    question = models.ForeignKey(
        "assessments.Question",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exam_items",
    )
    category = models.ForeignKey(
        "assessments.Category",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="exam_pools",
    )
    include_subcategories = models.BooleanField(default=True)
    tags = models.JSONField(default=list, blank=True, help_text="A question must carry every tag.")
    difficulty_min = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    difficulty_max = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    count = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Pool rules only: how many questions to draw."
    )
    points = models.DecimalField(
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Empty: the question's own points.",
    )

    class Meta:
        ordering = ["section", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(question__isnull=False) & models.Q(count__isnull=True))
                | (models.Q(question__isnull=True) & models.Q(count__gte=1)),
                name="assessments_sectionitem_fixed_or_pool",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    difficulty_min__gte=1,
                    difficulty_max__lte=5,
                    difficulty_min__lte=models.F("difficulty_max"),
                ),
                name="assessments_sectionitem_difficulty_range",
            ),
            models.CheckConstraint(
                condition=models.Q(points__isnull=True) | models.Q(points__gte=0),
                name="assessments_sectionitem_points_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"pool of {self.count}" if self.is_pool else f"question {self.question_id}"

    @property
    def is_pool(self) -> bool:
        return self.question_id is None


class Cohort(models.Model):
    """A named group of candidates an exam can be assigned to."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="exam_cohorts"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ExamAssignment(models.Model):
    """Who may sit an exam: one cohort or one user, with extra time and window overrides
    (empty: the exam's own). A candidate with several assignments gets the most generous
    value of each (``selectors.effective_window``)."""

    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="assignments")
    cohort = models.ForeignKey(
        Cohort, null=True, blank=True, on_delete=models.CASCADE, related_name="assignments"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exam_assignments",
    )
    extra_time_minutes = models.PositiveIntegerField(default=0)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["exam", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(cohort__isnull=False) & models.Q(user__isnull=True))
                | (models.Q(cohort__isnull=True) & models.Q(user__isnull=False)),
                name="assessments_examassignment_cohort_or_user",
            ),
            models.UniqueConstraint(
                fields=["exam", "cohort"], name="assessments_examassignment_unique_cohort"
            ),
            models.UniqueConstraint(
                fields=["exam", "user"], name="assessments_examassignment_unique_user"
            ),
            models.CheckConstraint(
                condition=models.Q(opens_at__isnull=True)
                | models.Q(closes_at__isnull=True)
                | models.Q(closes_at__gt=models.F("opens_at")),
                name="assessments_examassignment_closes_after_opens",
            ),
        ]

    def __str__(self) -> str:
        who = f"cohort {self.cohort_id}" if self.cohort_id else f"user {self.user_id}"
        return f"exam {self.exam_id} → {who}"


class ExamVersionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableVersionError("Published exam versions cannot be changed.")

    def delete(self):
        raise ImmutableVersionError("Published exam versions cannot be deleted.")


class ExamVersion(models.Model):
    """A published, immutable exam: ``snapshot`` holds the settings and every question an
    attempt may be asked, pinned to a ``QuestionVersion``. Made only by
    ``services.publish_exam``; saving an existing version or deleting one raises."""

    exam = models.ForeignKey(Exam, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    published_at = models.DateTimeField()
    # SET_NULL so erasing a person stays possible; who published is metadata, not content.
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    snapshot = models.JSONField(encoder=DjangoJSONEncoder)

    objects = ExamVersionQuerySet.as_manager()

    class Meta:
        ordering = ["exam", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["exam", "number"], name="assessments_examversion_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.exam_id} v{self.number}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableVersionError(f"Exam version {self.pk} is published and immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableVersionError(f"Exam version {self.pk} is published and cannot be deleted.")
