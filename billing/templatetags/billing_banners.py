"""Subscription notices on every page of a portal: ``{% subscription_banner %}`` at the top of
each Wagtail admin page (``templates/wagtailadmin/base.html``) and ``{% read_only_notice %}``
on the candidates' pages (``templates/viva_base.html``). Both read the subscription row at
most once per request (``billing.selectors.subscription_for``)."""

from django import template

from billing import selectors

register = template.Library()


@register.inclusion_tag("billing/subscription_banner.html", takes_context=True)
def subscription_banner(context) -> dict:
    request = context.get("request")
    return {"banner": selectors.banner_for_request(request) if request is not None else None}


@register.inclusion_tag("billing/read_only_notice.html", takes_context=True)
def read_only_notice(context) -> dict:
    request = context.get("request")
    return {"read_only": request is not None and selectors.read_only_for_request(request)}
