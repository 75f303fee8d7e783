"""Reads of the audit log of the current tenant schema."""

from __future__ import annotations

import datetime

from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from tenants.audit.models import AuditAction, AuditEvent


def filter_events(
    *,
    action: AuditAction | str | None = None,
    actor_email: str | None = None,
    since: datetime.datetime | datetime.date | None = None,
    until: datetime.datetime | datetime.date | None = None,
    text: str | None = None,
) -> QuerySet[AuditEvent]:
    """The events matching every criterion given, newest first.

    ``actor_email`` matches part of the actor's email as recorded. ``since`` and ``until`` are
    inclusive; a date means that whole day in the current time zone. ``text`` matches part of
    the actor, the object (type, id or text) or the detail (its JSON text, keys included).
    """
    events = AuditEvent.objects.all()
    if action:
        events = events.filter(action=action)
    if actor_email:
        events = events.filter(actor_label__icontains=actor_email.strip())
    if since:
        events = events.filter(at__gte=_start_of(since))
    if until:
        if isinstance(until, datetime.datetime):
            events = events.filter(at__lte=until)
        else:
            events = events.filter(at__lt=_start_of(until + datetime.timedelta(days=1)))
    if text and text.strip():
        text = text.strip()
        events = events.annotate(detail_text=Cast("detail", TextField())).filter(
            Q(actor_label__icontains=text)
            | Q(object_type__icontains=text)
            | Q(object_id__icontains=text)
            | Q(object_label__icontains=text)
            | Q(detail_text__icontains=text)
        )
    return events.order_by("-at", "-id")


def get_event(*, event_id: int) -> AuditEvent | None:
    """One event of the current tenant's log, or None (ids of other tenants mean nothing)."""
    return AuditEvent.objects.select_related("actor").filter(pk=event_id).first()


def user_can_view_audit_log(*, user) -> bool:
    """The one check for the audit views and menu: superusers and holders of the permission.

    ``audit.view_auditevent`` can be granted to a group in Settings > Groups. The views sit in
    the Wagtail admin, so a user also needs "Can access Wagtail admin" to reach them.
    """
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.has_perm("audit.view_auditevent"))
    )


def _start_of(moment: datetime.datetime | datetime.date) -> datetime.datetime:
    if isinstance(moment, datetime.datetime):
        return moment
    return timezone.make_aware(datetime.datetime.combine(moment, datetime.time.min))
