"""The assessments app in the portal's Wagtail admin: exam pages under ``/cms/exams/``."""

from __future__ import annotations

from django.urls import include, path
from wagtail import hooks

from assessments.exams import urls as exam_urls


@hooks.register("register_admin_urls")
def register_exam_urls():
    return [path("exams/", include(exam_urls, namespace="exams"))]


# -- the question bank (/cms/questions/) ---------------------------------------------------


@hooks.register("register_admin_urls")
def register_question_bank_urls():
    from assessments.bank import urls as bank_urls

    return [path("questions/", include(bank_urls, namespace="bank"))]


@hooks.register("register_admin_menu_item")
def register_question_bank_menu_item():
    from django.urls import reverse
    from wagtail.admin.menu import MenuItem

    from assessments.bank.access import can_author_questions

    class QuestionBankMenuItem(MenuItem):
        def is_shown(self, request):
            return can_author_questions(request.user)

    return QuestionBankMenuItem("Question bank", reverse("bank:index"), icon_name="help", order=220)


# -- exam builder and question import/export (issue 4) -----------------------------------


@hooks.register("register_admin_urls")
def register_question_file_urls():
    from assessments.interchange import urls as interchange_urls

    return [path("questions/", include(interchange_urls, namespace="bank_import"))]


@hooks.register("register_admin_menu_item")
def register_exam_builder_menu():
    """One "Exams" menu: the builder and cohorts, and importing/exporting question files."""
    from django.urls import reverse
    from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem

    from assessments.interchange.views import user_can_import_questions
    from tenants.access.permissions import user_can

    class PermissionMenuItem(MenuItem):
        def __init__(self, *args, allowed, **kwargs):
            super().__init__(*args, **kwargs)
            self.allowed = allowed

        def is_shown(self, request) -> bool:
            return self.allowed(request.user)

    def authors(user) -> bool:
        return user_can(user, "assessments.change_exam")

    menu = Menu(
        items=[
            PermissionMenuItem(
                "Exams", reverse("exams:index"), icon_name="form", order=100, allowed=authors
            ),
            PermissionMenuItem(
                "Cohorts",
                reverse("exams:cohorts"),
                icon_name="group",
                order=200,
                allowed=lambda u: authors(u) and user_can(u, "assessments.view_cohort"),
            ),
            PermissionMenuItem(
                "Import questions",
                reverse("bank_import:index"),
                icon_name="upload",
                order=300,
                allowed=lambda u: user_can_import_questions(user=u),
            ),
            PermissionMenuItem(
                "Export questions",
                reverse("bank_import:export"),
                icon_name="download",
                order=400,
                allowed=lambda u: user_can_import_questions(user=u),
            ),
        ]
    )
    return SubmenuMenuItem("Exams", menu, icon_name="form", order=260)


# -- exam delivery: proctoring (/cms/proctor/) and manual grading (/cms/grading/) -----------


@hooks.register("register_admin_urls")
def register_delivery_admin_urls():
    from assessments.delivery.admin_urls import grading_patterns, proctor_patterns

    return [
        path("proctor/", include(proctor_patterns)),
        path("grading/", include(grading_patterns)),
    ]


@hooks.register("register_admin_menu_item")
def register_proctor_menu_item():
    from django.urls import reverse
    from wagtail.admin.menu import MenuItem

    from assessments.delivery.selectors import can_proctor

    class ProctorMenuItem(MenuItem):
        def is_shown(self, request):
            return can_proctor(user=request.user)

    return ProctorMenuItem(
        "Proctoring", reverse("delivery_proctor:list"), icon_name="view", order=230
    )


# -- AI features (issue 9): /cms/ai/ -- generation, grading suggestions, agreement, plagiarism


@hooks.register("register_admin_urls")
def register_ai_feature_urls():
    from assessments.ai import urls as ai_urls

    return [path("ai/", include(ai_urls, namespace="ai"))]


@hooks.register("register_admin_menu_item")
def register_ai_feature_menu_item():
    """Shown to authors, graders and admins; each page checks its own permission."""
    from django.urls import reverse
    from wagtail.admin.menu import MenuItem

    from assessments.ai.views import may_use_ai_pages

    class AIMenuItem(MenuItem):
        def is_shown(self, request):
            return may_use_ai_pages(request.user)

    return AIMenuItem("AI", reverse("ai:index"), icon_name="cogs", order=240)


# -- interviews (issue 10): /cms/interviews/templates/ and /cms/interviews/hiring/ ----------


@hooks.register("register_admin_viewset")
def register_interview_viewsets():
    """*Interviews*: templates (authors, hiring managers) and hiring (managers, reviewers)."""
    from assessments.interviews.admin_views import interviews_viewset_group

    return interviews_viewset_group()


# -- results analytics (issue 11): /cms/analytics/ -- dashboards, exports, reports, jobs


@hooks.register("register_admin_urls")
def register_analytics_urls():
    """URLs and, through a nested hook, the menu item (one function, as the app owns both)."""
    from django.urls import reverse
    from wagtail.admin.menu import MenuItem

    from assessments.analytics import admin_urls
    from assessments.analytics.selectors import can_view_reports

    class AnalyticsMenuItem(MenuItem):
        def is_shown(self, request):
            return can_view_reports(user=request.user)

    if not getattr(register_analytics_urls, "menu_registered", False):
        register_analytics_urls.menu_registered = True
        hooks.register(
            "register_admin_menu_item",
            lambda: AnalyticsMenuItem(
                "Analytics", reverse("analytics_admin:index"), icon_name="table", order=250
            ),
        )
    return [path("analytics/", include((admin_urls.urlpatterns, "analytics_admin")))]
