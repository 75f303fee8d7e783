"""Forms of the hiring screens in the portal admin (input parsing only; services decide)."""

from __future__ import annotations

from decimal import Decimal
from zoneinfo import available_timezones

from django import forms

from assessments.exams.models import Exam

from .models import InterviewTemplate


def parse_rubric_lines(text: str) -> list[dict]:
    """``criterion | competency | max points`` per line into rubric rows."""
    rows = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        cells = [c.strip() for c in line.split("|")]
        while len(cells) < 3:
            cells.append("")
        rows.append({"criterion": cells[0], "competency": cells[1], "max_points": cells[2]})
    return rows


class PositionForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    template = forms.ModelChoiceField(
        queryset=InterviewTemplate.objects.all(), required=False, label="Interview template"
    )
    exam = forms.ModelChoiceField(queryset=Exam.objects.all(), required=False, label="Exam")
    rubric = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        label="Panel rubric",
        help_text="One criterion per line: criterion | competency | maximum points, e.g. "
        "“Explains trade-offs | Problem solving | 5”.",
    )


class InviteForm(forms.Form):
    emails = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Candidate email addresses",
        help_text="One address per line. Each invited candidate takes a seat.",
    )


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones()) if "/" in name or name == "UTC"]


class ScheduleForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="Starts at (local time in the zone below)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    tz_name = forms.ChoiceField(label="Time zone", choices=_timezone_choices, initial="UTC")
    duration_minutes = forms.IntegerField(min_value=10, max_value=480, initial=45)
    location = forms.CharField(max_length=300, required=False, help_text="Room or video link")
    reviewers = forms.ModelMultipleChoiceField(queryset=None, label="Panel reviewers")

    def __init__(self, *args, reviewer_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = reviewer_queryset
        self.fields["reviewers"].widget.attrs["size"] = 6


class RescheduleForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="New start (local time in the zone below)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    tz_name = forms.ChoiceField(label="Time zone", choices=_timezone_choices)
    duration_minutes = forms.IntegerField(min_value=10, max_value=480)


class ReviewForm(forms.Form):
    comments = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args, rubric: list[dict], **kwargs):
        super().__init__(*args, **kwargs)
        self.rubric = rubric
        for criterion in rubric:
            self.fields[f"score_{criterion['id']}"] = forms.DecimalField(
                label=f"{criterion['criterion']} ({criterion.get('competency') or 'General'}, "
                f"0–{criterion['max_points']})",
                min_value=Decimal(0),
                max_value=Decimal(criterion["max_points"]),
                decimal_places=2,
            )
        self.order_fields([*(f"score_{c['id']}" for c in rubric), "comments"])

    def scores(self) -> dict[str, Decimal]:
        return {c["id"]: self.cleaned_data[f"score_{c['id']}"] for c in self.rubric}


class FeedbackForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}), label="Written feedback to the candidate"
    )


class RankingFilterForm(forms.Form):
    min_score = forms.DecimalField(
        required=False, min_value=0, max_value=100, label="Score at least"
    )
    competency = forms.ChoiceField(required=False, label="Competency")
    min_competency = forms.DecimalField(
        required=False, min_value=0, max_value=100, label="Competency score at least"
    )
    flags = forms.ChoiceField(
        required=False,
        label="Integrity flags",
        choices=[("", "Any"), ("clean", "Without flags"), ("flagged", "With flags")],
    )

    def __init__(self, *args, competencies: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["competency"].choices = [("", "Any")] + [(c, c) for c in competencies]


class MarketplacePublishForm(forms.Form):
    """Publishing a template: a new version of one of the portal's interview listings, or a
    new listing (the listing fields are then required by the marketplace service)."""

    PRICES = [("free", "Free"), ("one_off", "One-off price"), ("per_seat", "Per seat")]
    LEVELS = [
        ("introductory", "Introductory"),
        ("intermediate", "Intermediate"),
        ("advanced", "Advanced"),
        ("professional", "Professional"),
    ]

    listing = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label="Publish as"
    )
    title = forms.CharField(max_length=200, required=False, help_text="For a new listing.")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    subject = forms.CharField(max_length=100, required=False)
    tags = forms.CharField(max_length=500, required=False, help_text="Separated by commas.")
    level = forms.ChoiceField(choices=LEVELS, initial="professional")
    price_model = forms.ChoiceField(choices=PRICES, initial="free", label="Price")
    price = forms.DecimalField(
        min_value=0,
        decimal_places=2,
        required=False,
        label="Amount",  # "Price" already names the price model: two fields, one name
        help_text="In the currency below.",
    )
    currency = forms.CharField(max_length=3, initial="usd")
    licence_terms = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    community = forms.BooleanField(
        required=False,
        label="Free community listing",
        help_text="Portals that are not publishers share free templates with the community; "
        "the platform moderates them before they appear.",
    )
    release_notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args, listings: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["listing"].choices = [("", "A new listing"), *listings]

    def listing_values(self) -> dict:
        """The arguments of ``marketplace.services.create_listing`` for a new listing."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "subject": data["subject"],
            "tags": data["tags"],
            "level": data["level"],
            "price_model": data["price_model"],
            "price_amount": int((data["price"] or 0) * 100),
            "currency": data["currency"],
            "licence_terms": data["licence_terms"],
            "community": data["community"],
        }
