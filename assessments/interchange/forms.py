"""Forms of the import and export screens (input only; the work is in ``jobs``/``services``)."""

from __future__ import annotations

import re

from django import forms

from assessments.interchange.formats import FORMAT_MODULES, get_format
from assessments.models import Category, Question


def _format_choices(*, exporting: bool) -> list[tuple[str, str]]:
    choices = []
    for key in FORMAT_MODULES:
        handler = get_format(key)
        if not exporting or handler.can_export:
            choices.append((key, f"{handler.label} ({key})"))
    return choices


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Question file",
        help_text="JSON, CSV, XLSX, Moodle XML, GIFT, QTI (zip or XML) or PDF.",
    )
    format = forms.ChoiceField(
        label="Format",
        required=False,
        help_text="Leave on “Detect” to tell the format from the file name.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [
            ("", "Detect from the file name"),
            *_format_choices(exporting=False),
        ]


def category_choices() -> list[tuple[str, str]]:
    """Every category of the current schema as (id, "Parent / Child"), sorted by path."""
    categories = {c.pk: c for c in Category.objects.all()}
    choices = []
    for category in categories.values():
        names, current, seen = [], category, set()
        while current is not None and current.pk not in seen:
            seen.add(current.pk)
            names.insert(0, current.name)
            current = categories.get(current.parent_id)
        choices.append((str(category.pk), " / ".join(names)))
    return sorted(choices, key=lambda choice: choice[1].lower())


class ExportForm(forms.Form):
    format = forms.ChoiceField(label="Format")
    category = forms.ChoiceField(required=False)
    include_subcategories = forms.BooleanField(required=False, initial=True)
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Question.Status.choices]
    )
    ids = forms.CharField(
        required=False,
        label="Only these questions",
        help_text="Question ids separated by commas (filled in when you export a selection).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = _format_choices(exporting=True)
        self.fields["category"].choices = [("", "Every category"), *category_choices()]

    def clean_category(self) -> Category | None:
        value = self.cleaned_data.get("category")
        return Category.objects.filter(pk=int(value)).first() if value else None

    def clean_ids(self) -> list[int]:
        value = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        text = ",".join(value) if value else self.cleaned_data.get("ids") or ""
        parts = [part for part in re.split(r"[\s,]+", text) if part]
        if any(not part.isdigit() for part in parts):
            raise forms.ValidationError("Give question ids as whole numbers separated by commas.")
        return sorted({int(part) for part in parts})
