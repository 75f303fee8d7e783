from django.urls import path

from .views import exam_grading_overview

app_name = "exams"
urlpatterns = [
    path("<int:exam_id>/grading/", exam_grading_overview, name="grading_overview"),
]
