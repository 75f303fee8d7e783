from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tenants.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from tenants.audit.receivers import connect_receivers

        connect_receivers()
