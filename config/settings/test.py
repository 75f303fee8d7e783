"""Test settings: PostgreSQL always (DATABASE_URL or the embedded server), fast hashing."""

import os
import uuid

from .base import *  # noqa: F403
from .base import CACHES, DATABASES, INSTALLED_APPS, REDIS_URL, TENANT_APPS

DEBUG = False
SECRET_KEY = "test-secret-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# As in production: any host reaches tenant routing, which refuses unknown ones.
ALLOWED_HOSTS = ["*"]
VIVA_DEMO_SEED_ALLOWED = True
# No Stripe key in tests: the local Stripe double stands in (billing.gateway). Said here, not
# guessed from the settings module's name, which override_settings hides.
VIVA_STRIPE_DOUBLE_SERVED = True
VIVA_SPARE_POOL_SIZE = 2
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Each pytest-xdist worker and its Celery worker use their own media root and queue.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
CELERY_TASK_DEFAULT_QUEUE = f"viva-test-{_worker}"

# A tenant app that exists only in tests (see tests/test_template_schema.py).
TENANT_APPS = [*TENANT_APPS, "tests.probe_app"]
INSTALLED_APPS = [*INSTALLED_APPS, "tests.probe_app"]

# With a real Redis, each xdist worker gets its own database number and a fresh key prefix, so
# parallel workers and earlier runs never see each other's cache entries or task messages.
if REDIS_URL:
    _index = int(_worker[2:]) + 1 if _worker.startswith("gw") else 1
    _base = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL
    REDIS_URL = f"{_base}/{_index}"
    CACHES["default"]["LOCATION"] = REDIS_URL
    CELERY_BROKER_URL = REDIS_URL
# One id per test run, inherited by the Celery worker processes a test starts.
_run_id = os.environ.setdefault("VIVA_TEST_RUN_ID", uuid.uuid4().hex[:12])
MEDIA_ROOT = VAR_DIR / "test-media" / f"{_run_id}-{_worker}"  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = f"viva-test-{_worker}-{_run_id}"
# Tasks run in-process unless a test starts a real worker (tests/test_tasks.py).
CELERY_TASK_ALWAYS_EAGER = True
# Browser tests register passkeys on http://<tenant>.localhost (a secure context in Chromium).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True
