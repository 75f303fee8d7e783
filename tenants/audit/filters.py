"""The audit log's filter form, shown by Wagtail's listing furniture."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.widgets import AdminDateInput

from tenants.audit.models import AuditAction, AuditEvent


class AuditEventFilterSet(WagtailFilterSet):
    """Only a form: the filtering itself is ``selectors.filter_events`` (see ``criteria``)."""

    action = django_filters.ChoiceFilter(
        label="Action", choices=AuditAction.choices, empty_label="All", widget=forms.RadioSelect
    )
    actor_email = django_filters.CharFilter(label="Actor email", max_length=254)
    since = django_filters.DateFilter(label="From (date)", widget=AdminDateInput)
    until = django_filters.DateFilter(label="To (date)", widget=AdminDateInput)
    text = django_filters.CharFilter(label="Contains", max_length=200)

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    @property
    def criteria(self) -> dict[str, Any]:
        """The valid, non-empty criteria as keyword arguments for ``filter_events``."""
        if not self.is_valid():
            return {}
        return {key: value for key, value in self.form.cleaned_data.items() if value}
