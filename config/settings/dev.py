"""Local development: DEBUG on, console email, an embedded database when none is configured."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, env_bool

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = SECRET_KEY or "dev-insecure-key-do-not-use-in-production"  # noqa: S105
# Demo users (password "viva-demo") are created by `seed_demo` only when this is true.
VIVA_DEMO_SEED_ALLOWED = True
VIVA_LOCAL_DOMAIN_VERIFICATION = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True  # passkeys on http://<tenant>.localhost
