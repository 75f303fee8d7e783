"""Admin URLs of exam delivery, registered in ``assessments/wagtail_hooks.py`` under
``/cms/proctor/`` (namespace ``delivery_proctor``) and ``/cms/grading/``
(namespace ``delivery_grading``)."""

from django.urls import path

from . import admin_views

proctor_patterns = (
    [
        path("", admin_views.proctor_list, name="list"),
        path("attempt/<int:attempt_id>/", admin_views.proctor_detail, name="detail"),
        path("snapshot/<int:snapshot_id>/", admin_views.proctor_snapshot, name="snapshot"),
        path(
            "attempt/<int:attempt_id>/<slug:action>/",
            admin_views.proctor_action,
            name="action",
        ),
    ],
    "delivery_proctor",
)

grading_patterns = (
    [
        path("exam/<int:exam_id>/", admin_views.grading_exam, name="exam"),
        path("exam/<int:exam_id>/release/", admin_views.release_results, name="release"),
        path("attempt/<int:attempt_id>/", admin_views.grading_attempt, name="attempt"),
        path(
            "attempt/<int:attempt_id>/response/<int:position>/",
            admin_views.grade,
            name="grade",
        ),
    ],
    "delivery_grading",
)
