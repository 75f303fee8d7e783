"""The Celery app. Tasks carry the schema they were sent from and run inside it.

``tenant_schemas_celery`` stamps each message with the sender's schema and switches the worker's
connection to it before the task runs, so a task sent from tenant A can only touch A's schema.
"""

import os

from tenant_schemas_celery.app import CeleryApp

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = CeleryApp("viva")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Task modules of packages that are not Django apps of their own.
app.autodiscover_tasks(["assessments.interchange", "assessments.ai"])
