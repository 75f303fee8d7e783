"""Admin URLs of the AI features, under ``/cms/ai/`` (namespace ``ai``)."""

from django.urls import path

from . import views

app_name = "ai"

urlpatterns = [
    path("", views.index, name="index"),
    path("generate/", views.generate, name="generate"),
    path("generate/<int:batch_id>/", views.review_batch, name="batch"),
    path("policy/", views.policy, name="policy"),
    path("grading/<int:exam_id>/", views.grading_exam, name="grading"),
    path("grading/<int:exam_id>/start/", views.start_grading, name="grading_start"),
    path("suggestion/<int:suggestion_id>/", views.suggestion, name="suggestion"),
    path("agreement/<int:exam_id>/", views.agreement, name="agreement"),
    path("plagiarism/<int:exam_id>/", views.plagiarism_exam, name="plagiarism"),
    path("plagiarism/<int:exam_id>/start/", views.start_plagiarism, name="plagiarism_start"),
]
