"""Tenant-admin pages in the Wagtail admin: people, invitations, roles and their sessions."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_POST

from billing import entitlements
from tenants.access import services
from tenants.access.models import Invitation
from tenants.access.permissions import user_can
from tenants.access.roles import ROLES
from tenants.services import portal_url

ROLE_CHOICES = [(key, role.group) for key, role in ROLES.items()]


class InviteForm(forms.Form):
    email = forms.EmailField(required=False)
    role = forms.ChoiceField(choices=ROLE_CHOICES, initial="candidate")
    csv_file = forms.FileField(
        required=False,
        label="Or a CSV file",
        help_text="A first line naming the columns: email, and optionally role.",
    )

    def clean(self):
        data = super().clean()
        if not data.get("email") and not data.get("csv_file"):
            raise forms.ValidationError("Give an email address or a CSV file.")
        return data


def _require_people_admin(request) -> None:
    if not user_can(request.user, "access.add_invitation"):
        raise PermissionDenied


def people(request):
    _require_people_admin(request)
    form = InviteForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        url = portal_url(request.get_host().split(":")[0])
        try:
            if form.cleaned_data.get("csv_file"):
                report = services.invite_from_csv(
                    data=form.cleaned_data["csv_file"].read(),
                    default_role=form.cleaned_data["role"],
                    invited_by=request.user,
                    portal_url=url,
                )
                messages.success(
                    request,
                    f"{len(report.sent)} invitation(s) sent, {len(report.rejected)} rejected.",
                )
            else:
                invitation = services.invite_user(
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    invited_by=request.user,
                    portal_url=url,
                )
                messages.success(request, f"Invitation sent to {invitation.email}.")
                return redirect("access_people")
        except services.InvitationError as exc:
            form.add_error(None, str(exc))
    users = Paginator(
        get_user_model().objects.prefetch_related("groups").order_by("email"), 50
    ).get_page(request.GET.get("p"))
    context = {
        "form": form,
        "report": report,
        "users": users,
        "pending": Invitation.objects.filter(accepted_at__isnull=True)[:100],
        "role_choices": ROLE_CHOICES,
        "seats": entitlements.check(request.tenant, entitlements.SEATS),
    }
    return TemplateResponse(request, "access/admin/people.html", context)


@require_POST
def person_action(request, pk: int, action: str):
    _require_people_admin(request)
    person = get_object_or_404(get_user_model(), pk=pk)
    if person.pk == request.user.pk:
        messages.error(request, "Use your own account page to manage your sessions.")
    elif action == "end-sessions":
        count = services.end_all_sessions(user=person)
        messages.success(request, f"Ended {count} session(s) of {person.email}.")
    elif action == "disable":
        services.disable_user(user=person, by=request.user, request=request)
        messages.success(request, f"{person.email} is disabled and signed out everywhere.")
    elif action == "enable":
        _try(request, lambda: services.enable_user(user=person), f"{person.email} is enabled.")
    elif action == "grant-role":
        role = request.POST.get("role", "")
        _try(
            request,
            lambda: services.grant_role(user=person, role=role),
            f"{person.email} is now in {_group_name(role)}.",
        )
    elif action == "remove-role":
        role = request.POST.get("role", "")
        _try(
            request,
            lambda: services.revoke_role(user=person, role=role),
            f"{person.email} is no longer in {_group_name(role)}.",
        )
    else:
        raise PermissionDenied
    return redirect("access_people")


@require_POST
def revoke_invitation(request, pk: int):
    """Withdraw a pending invitation (its link stops working, a candidate's seat hold is given
    back). Another portal's id, or an accepted invitation, is not found here."""
    _require_people_admin(request)
    invitation = get_object_or_404(Invitation, pk=pk, accepted_at__isnull=True)
    services.revoke_invitation(invitation=invitation)
    messages.success(request, f"The invitation of {invitation.email} is withdrawn.")
    return redirect("access_people")


def _group_name(role: str) -> str:
    return ROLES[role].group if role in ROLES else role


def _try(request, change: Callable[[], None], done: str) -> None:
    """Make a change that may be refused (no seat left, unknown role): say which it was."""
    try:
        change()
    except services.RoleError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done)
