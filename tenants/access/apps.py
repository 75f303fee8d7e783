from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "tenants.access"
    label = "access"
    verbose_name = "Access"

    def ready(self) -> None:
        from tenants.access import receivers  # noqa: F401
