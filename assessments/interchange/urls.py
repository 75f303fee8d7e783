"""Import and export URLs, mounted under the Wagtail admin at ``/cms/questions/`` (namespace
``bank_import``): ``import/…`` and ``export/``. Nothing else under ``questions/`` is matched
here, so the bank's own pages can live beside them."""

from django.urls import path

from assessments.interchange import views

app_name = "bank_import"
urlpatterns = [
    path("import/", views.ImportIndexView.as_view(), name="index"),
    path("import/<int:job_id>/", views.ImportJobView.as_view(), name="job"),
    path("import/<int:job_id>/status/", views.ImportJobStatusView.as_view(), name="status"),
    path("import/<int:job_id>/commit/", views.ImportJobCommitView.as_view(), name="commit"),
    path("import/<int:job_id>/discard/", views.ImportJobDiscardView.as_view(), name="discard"),
    path("import/template.<slug:kind>", views.ImportTemplateView.as_view(), name="template"),
    path("export/", views.ExportView.as_view(), name="export"),
]
