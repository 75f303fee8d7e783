"""Forms of the proctor and grading screens (validation only; writes go through services)."""

from __future__ import annotations

from decimal import Decimal

from django import forms


class AddTimeForm(forms.Form):
    minutes = forms.IntegerField(min_value=1, max_value=24 * 60, initial=10, label="Minutes to add")


class GradeForm(forms.Form):
    """A grader's score for one response: per rubric criterion for essays with a rubric,
    otherwise one score (an override of the automatic grade)."""

    comment = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Comment for the candidate",
    )

    def __init__(self, *args, item: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.item = item
        self.rubric = item["data"].get("rubric") if item["type"] == "essay" else None
        if self.rubric:
            for criterion in self.rubric:
                self.fields[f"rubric_{criterion['id']}"] = forms.DecimalField(
                    label=f"{criterion['criterion']} (0–{criterion['max_points']})",
                    min_value=Decimal(0),
                    max_value=Decimal(criterion["max_points"]),
                    decimal_places=2,
                )
        else:
            self.fields["score"] = forms.DecimalField(
                label=f"Score (0–{item['points']})",
                min_value=Decimal(0),
                max_value=Decimal(item["points"]),
                decimal_places=2,
            )
        self.order_fields([f for f in self.fields if f != "comment"] + ["comment"])

    def grade(self) -> dict:
        """Keyword arguments for ``services.grade_response``."""
        data = self.cleaned_data
        if self.rubric:
            return {
                "rubric_scores": {c["id"]: str(data[f"rubric_{c['id']}"]) for c in self.rubric},
                "comment": data["comment"],
            }
        return {"score": data["score"], "comment": data["comment"]}
