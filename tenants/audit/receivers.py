"""Signal receivers that write the audit log (connected in ``AuditConfig.ready``).

Each records only when the connection is on a tenant schema: the audit table exists only
there, and platform staff signing in on the public schema are not a tenant's business.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import get_public_schema_name

from tenants.audit.context import current_request
from tenants.audit.models import AuditAction
from tenants.audit.services import record_event, untrusted_text


def in_tenant_schema() -> bool:
    return getattr(connection, "schema_name", get_public_schema_name()) != (
        get_public_schema_name()
    )


def on_user_logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if in_tenant_schema():
        record_event(action=AuditAction.LOGIN, actor=user, request=request)


def on_user_logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None and in_tenant_schema():
        record_event(action=AuditAction.LOGOUT, actor=user, request=request)


def on_user_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    """Keep the name that was tried, never the password (or anything else in credentials)."""
    if not in_tenant_schema():
        return
    attempted = credentials.get("username") or credentials.get("email") or ""
    record_event(
        action=AuditAction.LOGIN_FAILED,
        request=request,
        detail={"username": untrusted_text(attempted)},
    )


def on_groups_changed(
    sender: Any,
    instance: Any,
    action: str,
    reverse: bool,
    model: Any,
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    """One ``role.granted``/``role.revoked`` per user and group whose membership changed.

    Works from either side (``user.groups.add(g)`` or ``group.user_set.add(u)``). For
    ``clear()`` the members are read before the clear, since Django sends no pk_set for it.
    """
    if action not in {"post_add", "post_remove", "pre_clear", "post_clear"}:
        return
    if not in_tenant_schema():
        return
    if action == "pre_clear":
        related = instance.user_set if reverse else instance.groups
        instance._audit_cleared_pks = set(related.values_list("pk", flat=True))
        return
    if action == "post_clear":
        pk_set = instance.__dict__.pop("_audit_cleared_pks", set())
    if not pk_set:
        return

    if reverse:  # instance is a Group, pk_set are users
        pairs = [(user, instance) for user in model.objects.filter(pk__in=pk_set).order_by("pk")]
    else:  # instance is a user, pk_set are groups
        pairs = [(instance, group) for group in model.objects.filter(pk__in=pk_set).order_by("pk")]
    audit_action = AuditAction.ROLE_GRANTED if action == "post_add" else AuditAction.ROLE_REVOKED
    request = current_request()
    for user, group in pairs:
        record_event(
            action=audit_action,
            request=request,
            obj=user,
            detail={"role": group.name, "role_id": group.pk},
        )


def on_authenticator_added(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _record_mfa(AuditAction.MFA_ACTIVATED, request=request, user=user, **kwargs)


def on_authenticator_removed(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _record_mfa(AuditAction.MFA_DEACTIVATED, request=request, user=user, **kwargs)


def _record_mfa(action: AuditAction, *, request: Any, user: Any, **kwargs: Any) -> None:
    if not in_tenant_schema():
        return
    authenticator = kwargs.get("authenticator")
    signed_in = getattr(request, "user", None)
    actor = signed_in if signed_in is not None and signed_in.is_authenticated else user
    record_event(
        action=action,
        actor=actor,
        request=request,
        obj=user,
        detail={"authenticator": getattr(authenticator, "type", "")},
    )


def connect_receivers() -> None:
    """Connect every receiver above; idempotent (each has a dispatch_uid)."""
    from allauth.mfa import signals as mfa_signals
    from django.contrib.auth import signals as auth_signals
    from django.db.models.signals import m2m_changed

    auth_signals.user_logged_in.connect(on_user_logged_in, dispatch_uid="audit.login")
    auth_signals.user_logged_out.connect(on_user_logged_out, dispatch_uid="audit.logout")
    auth_signals.user_login_failed.connect(on_user_login_failed, dispatch_uid="audit.login_failed")
    m2m_changed.connect(
        on_groups_changed,
        sender=get_user_model().groups.through,
        dispatch_uid="audit.groups_changed",
    )
    mfa_signals.authenticator_added.connect(on_authenticator_added, dispatch_uid="audit.mfa_added")
    mfa_signals.authenticator_removed.connect(
        on_authenticator_removed, dispatch_uid="audit.mfa_removed"
    )
