"""The one permission API of Viva. Views and services ask here, never ``user.is_staff``.

Object permissions (a grader on one exam, a reviewer on one position) are django-guardian
grants; they live in the tenant's schema, so a grant in one portal means nothing in another.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from guardian.shortcuts import assign_perm, remove_perm

from tenants.access.roles import ADMIN_ACCESS, ROLES


def has_role(user, role: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser and role == "admin":
        return True
    return user.groups.filter(name=ROLES[role].group).exists()


def is_staff_member(user) -> bool:
    """May use the Wagtail admin (any staff role, or superuser)."""
    return bool(user.is_authenticated and user.is_active and user.has_perm(ADMIN_ACCESS))


def user_can(user, perm: str, obj: Any = None) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    return user.has_perm(perm, obj) if obj is not None else user.has_perm(perm)


def require(user, perm: str, obj: Any = None) -> None:
    """Refuse as "not found": a user without the right learns nothing about the object."""
    if not user_can(user, perm, obj):
        raise Http404("Not found")


def assign_role(*, user, role: str) -> None:
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=ROLES[role].group))
    if ROLES[role].staff and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def remove_role(*, user, role: str) -> None:
    from django.contrib.auth.models import Group

    user.groups.remove(Group.objects.get(name=ROLES[role].group))


def grant_object_permission(*, user, perm: str, obj: Any, by=None, request=None) -> None:
    from tenants.audit.services import record_event

    assign_perm(perm, user, obj)
    record_event(
        action="permission.granted",
        actor=by,
        request=request,
        obj=obj,
        detail={"permission": perm, "user_id": user.pk},
    )


def revoke_object_permission(*, user, perm: str, obj: Any, by=None, request=None) -> None:
    from tenants.audit.services import record_event

    remove_perm(perm, user, obj)
    record_event(
        action="permission.revoked",
        actor=by,
        request=request,
        obj=obj,
        detail={"permission": perm, "user_id": user.pk},
    )
