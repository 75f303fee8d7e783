"""Interview practice for candidates, mounted at ``/interview/`` on every portal host."""

from django.urls import path

from . import views

app_name = "interviews"
urlpatterns = [
    path("", views.index, name="index"),
    path("start/<int:template_id>/", views.start, name="start"),
    path("session/<int:session_id>/", views.session_view, name="session"),
    path("session/<int:session_id>/turn/<int:turn_id>/answer/", views.answer, name="answer"),
    path(
        "session/<int:session_id>/turn/<int:turn_id>/follow-up/",
        views.follow_up,
        name="follow_up",
    ),
    path("session/<int:session_id>/next/", views.next_question, name="next"),
    path("session/<int:session_id>/finish/", views.finish, name="finish"),
    path("session/<int:session_id>/scorecard/", views.scorecard, name="scorecard"),
]
