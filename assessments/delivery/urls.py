"""Candidate pages of exam delivery, mounted at ``/exam/`` on every portal host.

(``/exam/autosave/`` is answered by ``autosave.AutosaveMiddleware`` before URL routing.)
"""

from django.urls import path

from . import views

app_name = "delivery"
urlpatterns = [
    path("<int:exam_id>/", views.exam_landing, name="landing"),
    path("<int:exam_id>/start/", views.start, name="start"),
    path("attempt/<int:attempt_id>/", views.player, name="player"),
    path("attempt/<int:attempt_id>/advance/", views.advance, name="advance"),
    path("attempt/<int:attempt_id>/summary/", views.summary, name="summary"),
    path("attempt/<int:attempt_id>/submit/", views.submit, name="submit"),
    path("attempt/<int:attempt_id>/results/", views.results, name="results"),
    path("attempt/<int:attempt_id>/events/", views.events, name="events"),
    path("attempt/<int:attempt_id>/state/", views.state, name="state"),
    path("attempt/<int:attempt_id>/snapshot/", views.snapshot, name="snapshot"),
]
