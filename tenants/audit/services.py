"""Writes to the audit log: recording events, privacy redaction, and the CSV export.

Every function here works on the audit table of the current connection schema, which must be a
tenant schema (the table does not exist in public).
"""

from __future__ import annotations

import csv
import io
import ipaddress
import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Model, Q
from django.http import HttpRequest

from tenants.audit.models import AuditAction, AuditEvent

# OWASP "CSV injection": a spreadsheet treats a cell starting with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "at",
    "action",
    "actor",
    "ip",
    "object_type",
    "object_id",
    "object",
    "detail",
)
# Text from outside (an attempted sign-in name) is cut to this length before it is stored.
MAX_UNTRUSTED_TEXT = 254


def record_event(
    *,
    action: AuditAction | str,
    actor: Any = None,
    request: HttpRequest | None = None,
    obj: Model | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the current tenant's audit log and return it.

    ``actor`` defaults to the request's signed-in user. The IP is the request's
    ``REMOTE_ADDR`` only: ``X-Forwarded-For`` is client-controlled and is never read here
    (behind a proxy, the trusted-proxy handling belongs in front of this function).
    """
    action = AuditAction(action)  # an unknown action is a bug: ValueError
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None  # AnonymousUser
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=(getattr(actor, "email", "") or "") if actor is not None else "",
        ip=client_ip(request=request),
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_label=str(obj) if obj is not None else "",
        detail=dict(detail or {}),
    )


def client_ip(*, request: HttpRequest | None) -> str | None:
    """The peer address of the request, or None when there is none or it is not an IP."""
    if request is None:
        return None
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    try:
        return str(ipaddress.ip_address(remote))
    except ValueError:
        return None


def untrusted_text(value: Any) -> str:
    """Text that came from outside (e.g. an attempted sign-in name), bounded in length."""
    return str(value if value is not None else "")[:MAX_UNTRUSTED_TEXT]


def redact_actor(*, user_id: int, replacement: str) -> int:
    """Privacy erasure: overwrite a user's personal data in the audit log. Returns the rows.

    This is the one sanctioned change to audit entries. It rewrites, for the user ``user_id``:
    the entries they made (``actor_label``, ``ip`` and every value in ``detail``), the entries
    about them (``object_label`` where the object is that user) and failed sign-ins that named
    their current email. What happened and when stays; who it was does not.

    The database refuses every UPDATE on the table unless the transaction-local setting
    ``viva.audit_redaction`` is ``on``, and even then only these four columns may change;
    DELETE and TRUNCATE are refused regardless (migration 0002). The setting is switched on
    with ``set_config('viva.audit_redaction', 'on', true)`` (the function form of
    ``SET LOCAL``) inside a savepoint, and off again before returning, so it can never leak
    into the rest of a caller's transaction (on error, rolling back the savepoint undoes it).
    Run this before deleting the user: afterwards their entries no longer point at them.
    """
    User = get_user_model()  # noqa: N806
    user_label = User._meta.label
    about_user = Q(object_type=user_label, object_id=str(user_id))
    email = (
        User.objects.filter(pk=user_id).values_list(User.get_email_field_name(), flat=True).first()
    )
    named_in_failed_login = Q(pk__in=[])
    if email:
        named_in_failed_login = Q(action=AuditAction.LOGIN_FAILED) & (
            Q(detail__username__iexact=email) | Q(detail__email__iexact=email)
        )

    with transaction.atomic():
        _set_redaction(enabled=True)
        changed = 0
        events = AuditEvent.objects.select_for_update().filter(
            Q(actor_id=user_id) | about_user | named_in_failed_login
        )
        for event in events:
            fields = []
            if event.actor_id == user_id:
                event.actor_label = replacement
                fields.append("actor_label")
            if event.actor_id == user_id or _names_email(event, email=email):
                event.ip = None
                event.detail = _redact_values(event.detail, replacement=replacement)
                fields += ["ip", "detail"]
            if event.object_type == user_label and event.object_id == str(user_id):
                event.object_label = replacement
                fields.append("object_label")
            event.save(update_fields=fields)
            changed += 1
        _set_redaction(enabled=False)
    return changed


def export_events_csv(
    *,
    events: Iterable[AuditEvent],
    actor: Any = None,
    request: HttpRequest | None = None,
    criteria: Mapping[str, Any] | None = None,
) -> str:
    """The events as CSV text, safe to open in a spreadsheet; records a ``data.exported`` event.

    Every cell that a spreadsheet would read as a formula (starting with ``=``, ``+``, ``-``,
    ``@``, tab or carriage return) is prefixed with a single quote, per OWASP's advice on CSV
    injection. ``criteria`` (the filters the export was made with) is kept in the export's own
    event, which is recorded after the rows are read and so is not part of this file.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for event in events:
        writer.writerow(
            [
                csv_safe(value)
                for value in (
                    event.at.isoformat(),
                    event.action,
                    event.actor_label,
                    event.ip,
                    event.object_type,
                    event.object_id,
                    event.object_label,
                    json.dumps(event.detail, sort_keys=True, cls=DjangoJSONEncoder),
                )
            ]
        )
        rows += 1
    record_event(
        action=AuditAction.DATA_EXPORTED,
        actor=actor,
        request=request,
        detail={
            "what": "audit_log",
            "format": "csv",
            "rows": rows,
            "criteria": {key: value for key, value in (criteria or {}).items() if value},
        },
    )
    return buffer.getvalue()


def csv_safe(value: Any) -> str:
    """``value`` as a CSV cell that no spreadsheet evaluates as a formula."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def _names_email(event: AuditEvent, *, email: str | None) -> bool:
    if not email or event.action != AuditAction.LOGIN_FAILED:
        return False
    named = {str(event.detail.get(key, "")).lower() for key in ("username", "email")}
    return email.lower() in named


def _set_redaction(*, enabled: bool) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('viva.audit_redaction', %s, true)", ["on" if enabled else "off"]
        )


def _redact_values(value: Any, *, replacement: str) -> Any:
    """The same structure with every leaf value replaced (keys are ours, not personal)."""
    if isinstance(value, dict):
        return {key: _redact_values(item, replacement=replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_values(item, replacement=replacement) for item in value]
    return replacement
