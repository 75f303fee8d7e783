"""The question bank under the Wagtail admin (``/cms/questions/``), mounted by
``assessments/wagtail_hooks.py``."""

from django.urls import path

from . import views

app_name = "bank"
urlpatterns = [
    path("", views.bank_index, name="index"),
    path("bulk/", views.bulk_action, name="bulk"),
    path("categories/", views.categories, name="categories"),
    path("new/", views.question_create, name="create"),
    path("<int:question_id>/", views.question_edit, name="edit"),
    path("<int:question_id>/history/", views.version_history, name="history"),
    path("<int:question_id>/history/compare/", views.version_diff, name="diff"),
    path(
        "<int:question_id>/history/<int:number>/restore/",
        views.version_restore,
        name="restore",
    ),
    path("<int:question_id>/preview/", views.preview, name="preview"),
]
