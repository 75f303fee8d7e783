"""The one place that answers "may tenant T use feature X".

Plans, subscriptions and limits arrive with the Billing issue; until then every portal has the
features of the default plan below. Callers must go through ``has_feature`` so that the
switch to plan-based answers changes this module only.
"""

from __future__ import annotations

from tenants.models import Tenant

REMOVE_PLATFORM_BRANDING = "remove_platform_branding"
CUSTOM_DOMAIN = "custom_domain"

DEFAULT_PLAN_FEATURES = frozenset({CUSTOM_DOMAIN})


def has_feature(tenant: Tenant, feature: str) -> bool:
    return feature in DEFAULT_PLAN_FEATURES
