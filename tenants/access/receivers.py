"""Sessions end when an account is disabled or when its second factors change; a disabled or
erased account gives its billing seat back."""

from __future__ import annotations

from allauth.mfa import signals as mfa_signals
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django_tenants.utils import get_public_schema_name

from tenants.privacy.signals import erasing_user


def _in_tenant() -> bool:
    return connection.schema_name != get_public_schema_name()


@receiver(pre_save, sender=get_user_model(), dispatch_uid="access.remember_is_active")
def _remember_is_active(sender, instance, update_fields=None, **kwargs):
    if update_fields is not None and "is_active" not in update_fields:
        instance._was_active = None  # e.g. last_login on every sign-in: no extra query
        return
    if instance.pk is None:
        instance._was_active = instance.is_active
        return
    instance._was_active = (
        sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    )


@receiver(post_save, sender=get_user_model(), dispatch_uid="access.disabled_user_sessions")
def _end_sessions_of_disabled_user(sender, instance, created, **kwargs):
    if created or not _in_tenant():
        return
    if getattr(instance, "_was_active", None) and not instance.is_active:
        from tenants.access.services import end_all_sessions
        from tenants.audit.services import record_event

        end_all_sessions(user=instance)
        _release_seat(user=instance)
        record_event(action="user.disabled", obj=instance)


def _release_seat(*, user) -> None:
    """However an account was disabled (People page, erasure, retention purge, Django admin),
    an inactive account is no active candidate: its seat goes back to the pool."""
    from billing.services import release_seat
    from tenants.selectors import current_tenant

    release_seat(tenant=current_tenant(), user_id=user.pk)


def _factor_changed(sender, request=None, user=None, **kwargs):
    if not _in_tenant() or user is None:
        return
    from tenants.access.services import end_all_sessions

    keep = getattr(getattr(request, "session", None), "session_key", None)
    end_all_sessions(user=user, keep_session_key=keep)


for _signal in ("authenticator_added", "authenticator_removed", "authenticator_reset"):
    if hasattr(mfa_signals, _signal):
        getattr(mfa_signals, _signal).connect(
            _factor_changed, dispatch_uid=f"access.end_sessions_on_{_signal}"
        )


@receiver(erasing_user, dispatch_uid="access.erase_invitations")
def _erase_invitations(sender, user, **kwargs):
    """An erased person's invitations carry their address: remove them with the person."""
    from tenants.access.models import Invitation

    Invitation.objects.filter(Q(accepted_user=user) | Q(email__iexact=user.email)).delete()


@receiver(erasing_user, dispatch_uid="access.erase_seats")
def _erase_seats(sender, user, **kwargs):
    """The billing rows of an erased person are in the public schema, out of reach of the
    tenant's own erasure: free their seat (and any hold of their address) and unname them."""
    from billing.services import forget_seat_holder
    from tenants.privacy.selectors import erased_email
    from tenants.selectors import current_tenant

    forget_seat_holder(
        tenant=current_tenant(),
        user_id=user.pk,
        email=user.email,
        replacement=erased_email(user_id=user.pk),
    )


def _audit_setting_saved(sender, instance, created, **kwargs):
    """A tenant's settings (theme, access policy) changed: who changed them. The row Wagtail
    creates with defaults on first read is not a change."""
    if created or not _in_tenant():
        return
    from tenants.audit.context import current_request
    from tenants.audit.services import record_event

    request = current_request()
    record_event(
        action="settings.changed",
        request=request,
        obj=instance,
        detail={"setting": sender._meta.verbose_name.title()},
    )


def _connect_settings_audit() -> None:
    from tenants.access.models import AccessPolicy
    from themes.models import Theme

    for model in (AccessPolicy, Theme):
        post_save.connect(
            _audit_setting_saved, sender=model, dispatch_uid=f"access.audit_{model.__name__}"
        )


_connect_settings_audit()
