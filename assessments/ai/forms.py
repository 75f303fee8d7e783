"""Forms of the AI admin pages (validation only; the work is done by the services)."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from assessments.ai.generation import GENERATABLE_TYPES, MAX_COUNT, MAX_SOURCE_CHARS
from assessments.questions import REGISTRY


class GenerateForm(forms.Form):
    topic = forms.CharField(
        required=False, max_length=255, help_text="For example: photosynthesis, for year 10."
    )
    source_text = forms.CharField(
        required=False,
        max_length=MAX_SOURCE_CHARS,
        widget=forms.Textarea(attrs={"rows": 6}),
        label="Syllabus or source text",
    )
    document = forms.FileField(
        required=False, help_text="A .txt, .pdf or .docx file (up to 10 MB)."
    )
    count = forms.IntegerField(min_value=1, max_value=MAX_COUNT, initial=5)
    types = forms.MultipleChoiceField(
        choices=[(key, REGISTRY[key].label) for key in GENERATABLE_TYPES],
        initial=["single_choice", "true_false", "short_answer"],
        widget=forms.CheckboxSelectMultiple,
    )
    difficulty = forms.TypedChoiceField(
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Any")] + [(str(n), str(n)) for n in range(1, 6)],
    )

    def clean(self):
        data = super().clean()
        if not (data.get("topic") or data.get("source_text") or data.get("document")):
            raise forms.ValidationError("Give a topic, paste a syllabus or upload a document.")
        return data


class PolicyForm(forms.Form):
    enabled = forms.BooleanField(required=False, label="AI grading suggestions are on")
    confidence_threshold = forms.DecimalField(
        min_value=Decimal(0),
        max_value=Decimal(1),
        decimal_places=2,
        help_text="Suggestions below this confidence (0 to 1) are marked for a person to grade.",
    )


class ConfirmForm(forms.Form):
    comment = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Comment for the candidate",
    )
