"""Forms of the question bank screens. They parse input; the services decide what is stored."""

from __future__ import annotations

import inspect
import json
from typing import Any

from django import forms
from taggit.forms import TagField
from wagtail.admin.widgets import AdminTagWidget
from wagtail.images import get_image_model
from wagtail.images.widgets import AdminImageChooser

from assessments.models import Category, Question
from assessments.questions import REGISTRY, QuestionDataError, get_type

#: A valid ``data`` for every type: what the editor starts from when a question is created.
EXAMPLES: dict[str, dict] = {
    "single_choice": {
        "points": "1.00",
        "shuffle": True,
        "options": [
            {"id": "a", "text": "Paris", "correct": True, "feedback": "Right."},
            {"id": "b", "text": "Lyon", "correct": False, "feedback": ""},
            {"id": "c", "text": "Marseille", "correct": False, "feedback": ""},
        ],
    },
    "multiple_response": {
        "points": "2.00",
        "shuffle": True,
        "negative_marking": False,
        "options": [
            {"id": "a", "text": "2", "weight": "0.50", "feedback": ""},
            {"id": "b", "text": "3", "weight": "0.50", "feedback": ""},
            {"id": "c", "text": "9", "weight": "-0.50", "feedback": "9 is 3 × 3."},
        ],
    },
    "true_false": {"points": "1.00", "answer": True, "feedback_true": "", "feedback_false": ""},
    "short_answer": {
        "points": "1.00",
        "accepted": ["Paris", "Paris, France"],
        "case_sensitive": False,
    },
    "numeric": {
        "points": "1.00",
        "answer": "9.81",
        "tolerance": "0.05",
        "tolerance_mode": "absolute",
        "units": ["m/s2", "m/s^2"],
        "unit_required": False,
    },
    "essay": {
        "rubric": [
            {"id": "argument", "criterion": "Argument", "max_points": "4.00", "description": ""},
            {"id": "style", "criterion": "Style", "max_points": "2.00", "description": ""},
        ],
        "min_words": 150,
        "max_words": 600,
    },
    "matching": {
        "points": "2.00",
        "shuffle": True,
        "pairs": [{"prompt": "France", "match": "Paris"}, {"prompt": "Italy", "match": "Rome"}],
        "distractors": ["Lyon"],
    },
    "ordering": {"points": "3.00", "items": ["Mercury", "Venus", "Earth", "Mars"]},
    "cloze": {
        "points": "2.00",
        "text": "The capital of France is {{1}} and of Italy {{2}}.",
        "gaps": [
            {"id": "1", "accepted": ["Paris"], "case_sensitive": False},
            {"id": "2", "accepted": ["Rome"], "options": ["Rome", "Milan"]},
        ],
    },
}

TYPE_CHOICES = [(key, question_type.label) for key, question_type in REGISTRY.items()]
DIFFICULTY_CHOICES = [(level, str(level)) for level in range(1, 6)]
#: Where a service error goes, by the field it starts with ("data: options[2].text is empty").
ERROR_FIELDS = (
    "data",
    "title",
    "difficulty",
    "irt_a",
    "irt_b",
    "irt_c",
    "status",
    "category",
    "tags",
    "type",
)


def type_documentation(key: str) -> str:
    """The type's docstring: the JSON shape of its ``data`` and its grading rule."""
    return inspect.getdoc(type(get_type(key))) or ""


def data_as_text(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False)


def category_paths() -> dict[int, str]:
    """``{id: "Science / Physics"}`` for every category (one query)."""
    rows = {
        pk: (name, parent)
        for pk, name, parent in Category.objects.values_list("pk", "name", "parent_id")
    }
    paths: dict[int, str] = {}
    for pk in rows:
        names, current, seen = [], pk, set()
        while current is not None and current in rows and current not in seen:
            seen.add(current)
            names.append(rows[current][0])
            current = rows[current][1]
        paths[pk] = " / ".join(reversed(names))
    return paths


def category_choices(
    *, empty_label: str, paths: dict[int, str] | None = None
) -> list[tuple[str, str]]:
    paths = category_paths() if paths is None else paths
    return [("", empty_label)] + [
        (str(pk), path) for pk, path in sorted(paths.items(), key=lambda item: item[1].lower())
    ]


def category_from_choice(value: str | None) -> Category | None:
    if not value:
        return None
    return Category.objects.filter(pk=value).first()


class QuestionForm(forms.Form):
    """Every editable field of a question. ``data`` is JSON, checked by the type's ``validate``
    so that every problem is shown with its path before anything is stored."""

    type = forms.ChoiceField(choices=TYPE_CHOICES, label="Question type")
    title = forms.CharField(max_length=255)
    stem = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "viva-code"}),
        help_text=(
            "HTML shown to the candidate (p, strong, em, ul, ol, li, a, img, table, code…). "
            "Scripts, styles and event handlers are removed on save. Math: \\( x^2 \\) inline, "
            "\\[ … \\] or $$ … $$ on its own line."
        ),
    )
    image = forms.ModelChoiceField(
        queryset=get_image_model().objects.none(),
        required=False,
        widget=AdminImageChooser,
        label="Add an image to the stem",
        help_text="An image of this portal's library, added at the end of the stem on save.",
    )
    image_alt = forms.CharField(
        required=False,
        max_length=255,
        label="Image description (alt text)",
        help_text="Describe the image for people who cannot see it; the image title if empty.",
    )
    data = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "class": "viva-code", "spellcheck": "false"}),
        label="Question data (JSON)",
        help_text="The answer key and settings of this type; see the format below.",
    )
    explanation = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "viva-code"}),
        help_text="HTML shown after grading.",
    )
    category = forms.ChoiceField(required=False)
    tags = TagField(required=False, widget=AdminTagWidget)
    difficulty = forms.TypedChoiceField(choices=DIFFICULTY_CHOICES, coerce=int, initial=3)
    irt_a = forms.FloatField(required=False, label="IRT a (discrimination)")
    irt_b = forms.FloatField(required=False, label="IRT b (difficulty)")
    irt_c = forms.FloatField(required=False, label="IRT c (guessing, 0 to 1)")
    status = forms.ChoiceField(choices=Question.Status.choices, initial=Question.Status.DRAFT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(empty_label="No category")
        self.fields["image"].queryset = get_image_model().objects.all()

    def clean_data(self) -> Any:
        text = self.cleaned_data["data"]
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise forms.ValidationError(
                f"This is not valid JSON: line {error.lineno}, column {error.colno}: {error.msg}."
            ) from None

    def clean(self) -> dict:
        cleaned = super().clean()
        if "data" in cleaned and cleaned.get("type") in REGISTRY:
            try:
                cleaned["data"] = get_type(cleaned["type"]).validate(cleaned["data"])
            except QuestionDataError as error:
                for message in error.errors:
                    self.add_error("data", message)
        return cleaned

    def add_service_errors(self, error: QuestionDataError) -> None:
        """Put each message of a refused save next to the field it names."""
        for message in error.errors:
            field = next((name for name in ERROR_FIELDS if message.startswith(name)), None)
            if field == "data" and message.startswith("data: "):
                message = message.removeprefix("data: ")
            self.add_error(field if field in self.fields else None, message)

    def values(self) -> dict:
        """Keyword arguments for ``create_question``/``update_question`` (besides author)."""
        data = self.cleaned_data
        return {
            "type": data["type"],
            "title": data["title"],
            "stem": _with_image(data["stem"], data.get("image"), data.get("image_alt", "")),
            "data": data["data"],
            "explanation": data["explanation"],
            "category": category_from_choice(data.get("category")),
            "tags": data["tags"],
            "difficulty": data["difficulty"],
            "irt_a": data["irt_a"],
            "irt_b": data["irt_b"],
            "irt_c": data["irt_c"],
            "status": data["status"],
        }


def _with_image(stem: str, image: Any, alt: str) -> str:
    """``stem`` with the chosen library image appended (a rendition at most 800 px wide, served
    from this portal's media)."""
    if image is None:
        return stem
    from django.utils.html import format_html

    rendition = image.get_rendition("max-800x800")
    tag = format_html(
        '<p><img src="{}" alt="{}" width="{}" height="{}"></p>',
        rendition.url,
        alt.strip() or image.title,
        rendition.width,
        rendition.height,
    )
    return f"{stem}\n{tag}" if stem else str(tag)


class FilterForm(forms.Form):
    """The bank list's search and filters (GET); invalid values are ignored."""

    q = forms.CharField(required=False, label="Search")
    type = forms.ChoiceField(required=False, choices=[("", "Any type"), *TYPE_CHOICES])
    category = forms.ChoiceField(required=False, help_text="Includes its subcategories.")
    tag = forms.CharField(required=False)
    difficulty = forms.TypedChoiceField(
        required=False,
        choices=[("", "Any difficulty"), *DIFFICULTY_CHOICES],
        coerce=int,
        empty_value=None,
    )
    status = forms.ChoiceField(
        required=False, choices=[("", "Any status"), *Question.Status.choices]
    )

    def __init__(self, *args: Any, paths: dict[int, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(empty_label="Any category", paths=paths)

    def criteria(self) -> dict:
        """Keyword arguments for ``selectors.search_questions``."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        criteria: dict[str, Any] = {}
        if data["q"].strip():
            criteria["text"] = data["q"].strip()
        if data["type"]:
            criteria["type"] = data["type"]
        if data["category"]:
            category = category_from_choice(data["category"])
            if category is not None:
                criteria["category"] = category
        if data["tag"].strip():
            criteria["tags"] = [data["tag"].strip()]
        if data["difficulty"] is not None:
            criteria["difficulty"] = data["difficulty"]
        if data["status"]:
            criteria["status"] = data["status"]
        return criteria


class BulkForm(forms.Form):
    """An action on the ticked rows of the bank list."""

    ACTIONS = [
        ("add_tag", "Add tag"),
        ("remove_tag", "Remove tag"),
        ("move", "Move to category"),
        ("retire", "Retire"),
    ]
    action = forms.ChoiceField(choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, required=False)
    tag = forms.CharField(required=False, max_length=100)
    category = forms.ChoiceField(required=False)
    next = forms.CharField(required=False)

    def __init__(self, *args: Any, paths: dict[int, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(empty_label="No category", paths=paths)
        # Any id is accepted here; the services look each one up in this portal's schema.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()  # type: ignore[attr-defined]

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("ids"):
            raise forms.ValidationError("Select at least one question.")
        if (
            cleaned.get("action") in ("add_tag", "remove_tag")
            and not cleaned.get("tag", "").strip()
        ):
            self.add_error("tag", "Give the tag to add or remove.")
        return cleaned


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=200)
    parent = forms.ChoiceField(required=False, label="Inside")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = category_choices(empty_label="(top level)")


class VersionPairForm(forms.Form):
    a = forms.IntegerField(min_value=1, label="From version")
    b = forms.IntegerField(min_value=1, label="To version")
