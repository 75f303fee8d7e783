import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

application = get_wsgi_application()

# The exam autosave path is answered before Django's request handler (see its docstring).
from assessments.delivery.autosave import AutosaveWSGI  # noqa: E402

application = AutosaveWSGI(application)
