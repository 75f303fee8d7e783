from django.apps import AppConfig


class SSOConfig(AppConfig):
    name = "tenants.sso"
    label = "sso"
    verbose_name = "Single sign-on"
