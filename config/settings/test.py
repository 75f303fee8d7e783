"""Test settings: PostgreSQL always (DATABASE_URL or the embedded server), fast hashing."""

import os

from .base import *  # noqa: F403
from .base import DATABASES

DEBUG = False
SECRET_KEY = "test-secret-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
ALLOWED_HOSTS = [".localhost", "localhost", "testserver", "127.0.0.1"]
VIVA_DEMO_SEED_ALLOWED = True
VIVA_SPARE_POOL_SIZE = 2
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Each pytest-xdist worker and its Celery worker use their own media root and queue.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
MEDIA_ROOT = VAR_DIR / "test-media" / _worker  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = f"viva-test-{_worker}"
