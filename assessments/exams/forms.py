"""Forms of the exam builder: they parse input only; ``services`` decides and explains."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.forms.models import fields_for_model

from assessments.exams.models import Cohort, Exam
from assessments.exams.services import EDITABLE_FIELDS
from assessments.interchange.forms import category_choices
from assessments.models import Category, Question
from assessments.questions import REGISTRY

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _datetime_field(label: str, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=False, widget=DATETIME_WIDGET, help_text=help_text
    )


class ExamSettingsForm(forms.Form):
    """Title, description and every setting of ``services.SETTINGS_FIELDS``. Model validation
    is left to ``services`` (whose ``ExamError`` messages the view shows on this form)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(Exam, fields=EDITABLE_FIELDS))
        self.fields["description"].widget = forms.Textarea(attrs={"rows": 3})
        self.fields["description"].help_text = "Shown to candidates before they start (HTML)."
        self.fields["opens_at"] = _datetime_field("Opens", "Empty: open at once.")
        self.fields["closes_at"] = _datetime_field("Closes", "Empty: never closes.")
        self.fields["time_limit_minutes"].label = "Time limit (minutes)"
        self.fields["pass_mark_percent"].label = "Pass mark (%)"
        self.fields["grace_seconds"].label = "Grace (seconds)"
        self.fields["webcam_proctoring"].label = "Webcam proctoring"
        self.fields["webcam_interval_seconds"].label = "Snapshot interval (seconds)"
        self.fields["webcam_interval_seconds"].required = False
        self.fields[
            "webcam_interval_seconds"
        ].help_text = "Seconds between two webcam snapshots, from 30 to 300. Empty: 60."
        for field in self.fields.values():
            field.validators = []  # ranges are checked by services, in one list of messages
            if hasattr(field, "min_value"):
                field.min_value = field.max_value = None
                field.widget.attrs.pop("min", None)
                field.widget.attrs.pop("max", None)

    def clean_webcam_interval_seconds(self) -> int:
        value = self.cleaned_data.get("webcam_interval_seconds")
        return Exam._meta.get_field("webcam_interval_seconds").default if value is None else value

    @classmethod
    def initial_for(cls, exam: Exam) -> dict:
        return {name: getattr(exam, name) for name in EDITABLE_FIELDS}


class SectionForm(forms.Form):
    title = forms.CharField(max_length=255, required=False)
    instructions = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="HTML."
    )


class QuestionSearchForm(forms.Form):
    text = forms.CharField(required=False, label="Search")
    type = forms.ChoiceField(required=False)
    category = forms.ChoiceField(required=False)
    status = forms.ChoiceField(
        required=False,
        choices=[("", "Any status"), *Question.Status.choices],
        initial=Question.Status.ACTIVE,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "Any type")] + [(key, key) for key in REGISTRY]
        self.fields["category"].choices = [("", "Any category"), *category_choices()]

    def clean_category(self) -> Category | None:
        value = self.cleaned_data.get("category")
        return Category.objects.filter(pk=int(value)).first() if value else None


class PoolRuleForm(forms.Form):
    category = forms.ChoiceField(required=False)
    include_subcategories = forms.BooleanField(required=False, initial=True)
    tags = forms.CharField(
        required=False, help_text="A question must carry every tag; separate tags by commas."
    )
    difficulty_min = forms.IntegerField(label="Difficulty from", initial=1)
    difficulty_max = forms.IntegerField(label="Difficulty to", initial=5)
    count = forms.IntegerField(label="Questions to draw", initial=1)
    points = forms.DecimalField(
        required=False, help_text="Points per drawn question. Empty: each question's own points."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "Any category"), *category_choices()]

    def clean_category(self) -> Category | None:
        value = self.cleaned_data.get("category")
        return Category.objects.filter(pk=int(value)).first() if value else None

    def clean_tags(self) -> list[str]:
        return sorted({tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()})


class AssignmentForm(forms.Form):
    cohort = forms.ModelChoiceField(
        queryset=Cohort.objects.none(), required=False, empty_label="— a cohort —"
    )
    email = forms.EmailField(required=False, label="Or one person (email)")
    extra_time_minutes = forms.IntegerField(label="Extra time (minutes)", initial=0)
    opens_at = _datetime_field("Opens (override)", "Empty: the exam's own opening.")
    closes_at = _datetime_field("Closes (override)", "Empty: the exam's own closing.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cohort"].queryset = Cohort.objects.order_by("name")

    def clean(self):
        data = super().clean()
        if bool(data.get("cohort")) == bool(data.get("email")):
            raise forms.ValidationError("Choose one cohort or give one person's email.")
        if data.get("email"):
            user = get_user_model().objects.filter(email__iexact=data["email"]).first()
            if user is None:
                self.add_error("email", "No person with this email in this portal.")
            data["user"] = user
        return data


class CohortForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class MembersForm(forms.Form):
    emails = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One or more email addresses, separated by commas, spaces or new lines.",
    )

    def clean_emails(self) -> list[str]:
        return sorted(
            {e.lower() for e in re.split(r"[\s,;]+", self.cleaned_data["emails"]) if e.strip()}
        )
