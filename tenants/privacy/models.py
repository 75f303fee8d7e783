"""The portal's retention policy: how long personal data is kept when nobody uses it.

One row per tenant schema (a Wagtail generic setting lives in the tenant's own tables), edited
by the tenant's admins in Settings > Retention policy and applied daily by
``tasks.purge_expired_data_for_all_tenants``.
"""

from __future__ import annotations

from django.db import models
from wagtail.admin.panels import FieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting


@register_setting(icon="time")
class RetentionPolicy(BaseGenericSetting):
    """Editors see two numbers of days: after how long without a sign-in a candidate's account
    is erased (0 keeps accounts for ever), and how long the record of an ended session (its IP
    address and browser) is kept. Staff and superusers are never erased automatically."""

    erase_inactive_candidates_after_days = models.PositiveIntegerField(
        "erase inactive candidates after (days)",
        default=0,
        help_text=(
            "Candidates (users who are neither staff nor superusers) who have not signed in "
            "for this many days (counted from when they joined if they never signed in) are "
            "erased: their personal data is removed and their audit entries are redacted. "
            "0 means never."
        ),
    )
    delete_ended_sessions_after_days = models.PositiveIntegerField(
        "delete ended sessions after (days)",
        default=30,
        help_text=(
            "The record of a session that has ended (its IP address and browser) is deleted "
            "once it has not been seen for this many days. Expired sessions themselves are "
            "always deleted. 0 keeps the records."
        ),
    )

    panels = [
        FieldPanel("erase_inactive_candidates_after_days"),
        FieldPanel("delete_ended_sessions_after_days"),
    ]

    class Meta:
        verbose_name = "retention policy"
        verbose_name_plural = "retention policies"

    def __str__(self) -> str:
        return "Retention policy"
