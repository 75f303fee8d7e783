"""Exam pages under ``/cms/exams/`` (namespace ``exams``): the builder, publishing and
versions, assignments, cohorts and the grading overview."""

from django.urls import path

from . import views
from .views import exam_grading_overview

app_name = "exams"
urlpatterns = [
    path("", views.exam_index, name="index"),
    path("add/", views.exam_add, name="add"),
    path("<int:exam_id>/", views.exam_edit, name="edit"),
    path("<int:exam_id>/settings/", views.exam_settings, name="settings"),
    path("<int:exam_id>/archive/", views.exam_archive, name="archive"),
    path("<int:exam_id>/sections/add/", views.section_add, name="section_add"),
    path(
        "<int:exam_id>/sections/<int:section_id>/questions/",
        views.add_questions,
        name="add_questions",
    ),
    path("<int:exam_id>/sections/<int:section_id>/pool/", views.add_pool, name="add_pool"),
    path(
        "<int:exam_id>/sections/<int:section_id>/<slug:action>/",
        views.section_action,
        name="section_action",
    ),
    path("<int:exam_id>/items/<int:item_id>/<slug:action>/", views.item_action, name="item_action"),
    path("<int:exam_id>/publish/", views.exam_publish, name="publish"),
    path("<int:exam_id>/versions/", views.exam_versions, name="versions"),
    path("<int:exam_id>/versions/<int:number>/", views.exam_version, name="version"),
    path("<int:exam_id>/assignments/", views.exam_assignments, name="assignments"),
    path(
        "<int:exam_id>/assignments/<int:assignment_id>/remove/",
        views.assignment_remove,
        name="assignment_remove",
    ),
    path("cohorts/", views.cohort_index, name="cohorts"),
    path("cohorts/<int:cohort_id>/", views.cohort_detail, name="cohort"),
    path("<int:exam_id>/grading/", exam_grading_overview, name="grading_overview"),
]
