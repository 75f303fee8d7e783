"""Admin URLs of results analytics, registered in ``assessments/wagtail_hooks.py`` under
``/cms/analytics/`` (namespace ``analytics_admin``)."""

from django.urls import path

from . import admin_views

app_name = "analytics_admin"
urlpatterns = [
    path("", admin_views.index, name="index"),
    path("exam/<int:exam_id>/", admin_views.exam_dashboard, name="exam"),
    path("exam/<int:exam_id>/item/<int:question_id>/", admin_views.item_detail, name="item"),
    path(
        "exam/<int:exam_id>/candidate/<int:user_id>/",
        admin_views.candidate_detail,
        name="candidate",
    ),
    path("exam/<int:exam_id>/results.<str:fmt>", admin_views.export_results, name="export_results"),
    path("exam/<int:exam_id>/items.<str:fmt>", admin_views.export_items, name="export_items"),
    path("exam/<int:exam_id>/report.pdf", admin_views.exam_report, name="exam_report"),
    path("exam/<int:exam_id>/jobs/", admin_views.start_job, name="start_job"),
    path("exam/<int:exam_id>/leaderboard/", admin_views.toggle_leaderboard, name="leaderboard"),
    path("attempt/<int:attempt_id>/report.pdf", admin_views.attempt_report, name="attempt_report"),
    path(
        "attempt/<int:attempt_id>/certificate.pdf",
        admin_views.attempt_certificate,
        name="attempt_certificate",
    ),
    path("jobs/<int:job_id>/", admin_views.job_detail, name="job"),
    path("jobs/<int:job_id>/download/", admin_views.job_download, name="job_download"),
]
