"""The question bank of one portal (tenant schema): categories, questions, their versions.

A question's ``data`` is owned by its type (``assessments.questions``); writes go through
``assessments.services``, which validates the data, sanitises the HTML and records a
``QuestionVersion`` for every save.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from taggit.managers import TaggableManager

from .questions import REGISTRY


def validate_type_key(value: str) -> None:
    if value not in REGISTRY:
        raise ValidationError(f"{value!r} is not a question type.")


class Category(models.Model):
    """A folder of the question bank; categories form a tree through ``parent``."""

    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"],
                nulls_distinct=False,
                name="assessments_category_unique_name_in_parent",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    """One question of the bank: a registered type, its HTML stem and its typed data."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    type = models.CharField(max_length=40, validators=[validate_type_key])
    title = models.CharField(max_length=255)
    stem = models.TextField(blank=True, help_text="HTML, sanitised on save.")
    data = models.JSONField(encoder=DjangoJSONEncoder, default=dict)
    explanation = models.TextField(blank=True, help_text="HTML shown after grading.")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="questions"
    )
    tags = TaggableManager(blank=True)
    difficulty = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    irt_a = models.FloatField(null=True, blank=True, help_text="IRT discrimination.")
    irt_b = models.FloatField(null=True, blank=True, help_text="IRT difficulty.")
    irt_c = models.FloatField(null=True, blank=True, help_text="IRT guessing (0 to 1).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    version = models.PositiveIntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-updated", "-id"]
        indexes = [models.Index(fields=["type", "status"], name="assessments_q_type_status")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(difficulty__gte=1, difficulty__lte=5),
                name="assessments_question_difficulty_1_to_5",
            ),
            models.CheckConstraint(
                condition=models.Q(irt_c__isnull=True) | models.Q(irt_c__gte=0, irt_c__lte=1),
                name="assessments_question_irt_c_0_to_1",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class QuestionVersion(models.Model):
    """A snapshot of every editable field of a question, taken at each save."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField(encoder=DjangoJSONEncoder)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["question", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["question", "number"], name="assessments_questionversion_unique_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.question_id} v{self.number}"


from assessments.ai.feature_models import *  # noqa: E402,F401,F403
from assessments.ai.models import AICall  # noqa: E402,F401
from assessments.exams.models import *  # noqa: E402,F401,F403
from assessments.interchange.models import ImportJob  # noqa: E402,F401
