"""The assessments app in the portal's Wagtail admin: exam pages under ``/cms/exams/``."""

from __future__ import annotations

from django.urls import include, path
from wagtail import hooks

from assessments.exams import urls as exam_urls


@hooks.register("register_admin_urls")
def register_exam_urls():
    return [path("exams/", include(exam_urls, namespace="exams"))]
