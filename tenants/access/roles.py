"""The roles of a portal: one Django group each, with its permission set.

Roles are created in the template schema, so every tenant starts with them. Permissions of
apps that do not exist yet (exams, grading, interviews) are added to these sets by those apps.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission


@dataclass(frozen=True)
class Role:
    key: str
    group: str
    staff: bool  # may use the Wagtail admin
    permissions: tuple[str, ...]


ADMIN_ACCESS = "wagtailadmin.access_admin"
EXAM_AUTHORING = (
    "assessments.view_question",
    "assessments.add_question",
    "assessments.change_question",
    "assessments.view_exam",
    "assessments.add_exam",
    "assessments.change_exam",
    "assessments.view_examversion",
    "assessments.view_cohort",
    "assessments.add_examassignment",
    "assessments.change_examassignment",
    "assessments.view_examassignment",
)
INTERVIEW_TEMPLATES = (
    "interviews.add_interviewtemplate",
    "interviews.change_interviewtemplate",
    "interviews.view_interviewtemplate",
    "interviews.delete_interviewtemplate",
)
MEDIA = (
    "wagtailimages.add_image",
    "wagtailimages.change_image",
    "wagtailimages.choose_image",
    "wagtaildocs.add_document",
    "wagtaildocs.change_document",
    "wagtaildocs.choose_document",
)

ROLES: dict[str, Role] = {
    role.key: role
    for role in (
        Role(
            "admin",
            "Tenant admins",
            True,
            (
                ADMIN_ACCESS,
                *MEDIA,
                "accounts.add_user",
                "accounts.change_user",
                "accounts.view_user",
                "auth.change_group",
                "auth.view_group",
                "access.add_invitation",
                "access.view_invitation",
                "access.change_accesspolicy",
                "themes.change_theme",
                "audit.view_auditevent",
                *EXAM_AUTHORING,
                "assessments.delete_exam",
                "assessments.grade_exam",  # every exam; graders get it per exam (guardian)
                "assessments.add_cohort",
                "assessments.change_cohort",
                "assessments.delete_cohort",
                "assessments.delete_examassignment",
                "delivery.view_attempt",
                "delivery.proctor_attempt",
                "interviews.manage_hiring",
                *INTERVIEW_TEMPLATES,
                "analytics.view_report",
            ),
        ),
        Role(
            "author",
            "Authors",
            True,
            (ADMIN_ACCESS, *MEDIA, *EXAM_AUTHORING, *INTERVIEW_TEMPLATES, "analytics.view_report"),
        ),
        Role("grader", "Graders", True, (ADMIN_ACCESS,)),
        Role(
            "proctor",
            "Proctors",
            True,
            (
                ADMIN_ACCESS,
                "assessments.view_exam",
                "assessments.view_examassignment",
                "assessments.view_cohort",
                "delivery.view_attempt",
                "delivery.proctor_attempt",
            ),
        ),
        Role("candidate", "Candidates", False, ()),
        Role(
            "hiring_manager",
            "Hiring managers",
            True,
            (ADMIN_ACCESS, "interviews.manage_hiring", *INTERVIEW_TEMPLATES),
        ),
        Role("panel_reviewer", "Panel reviewers", True, (ADMIN_ACCESS, "interviews.review_panel")),
    )
}


def _permissions(names: tuple[str, ...]) -> list[Permission]:
    found = []
    for name in names:
        app_label, codename = name.split(".", 1)
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is None:
            raise LookupError(f"Permission {name} does not exist (is its app migrated?)")
        found.append(permission)
    return found


def ensure_roles() -> bool:
    """Create missing role groups and give each its permission set. True if anything changed."""
    changed = False
    for role in ROLES.values():
        group, created = Group.objects.get_or_create(name=role.group)
        wanted = set(_permissions(role.permissions))
        have = set(group.permissions.all())
        if created or wanted - have:
            group.permissions.add(*(wanted - have))
            changed = True
    return changed
