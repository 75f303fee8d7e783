from django.utils.functional import SimpleLazyObject

from themes.selectors import branding_for


def branding(request):
    """``branding`` for templates on a portal host (None on the platform); computed only when
    a template reads it, so admin pages don't pay for it."""
    tenant = getattr(request, "tenant", None)
    if tenant is None:
        return {"branding": None}
    return {"branding": SimpleLazyObject(lambda: branding_for(tenant))}
