"""Candidate pages of results analytics, mounted at ``/results/`` on every portal host
(namespace ``analytics``); ``verify/<code>/`` is the public certificate check."""

from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("attempt/<int:attempt_id>/report.pdf", views.attempt_report, name="attempt_report"),
    path("attempt/<int:attempt_id>/certificate.pdf", views.certificate, name="certificate"),
    path("leaderboard/<int:exam_id>/", views.leaderboard, name="leaderboard"),
    path("leaderboard/<int:exam_id>/opt-in/", views.leaderboard_opt_in, name="opt_in"),
    path("verify/", views.verify_form, name="verify_form"),
    path("verify/<str:code>/", views.verify, name="verify"),
]
