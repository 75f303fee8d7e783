from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "assessments.delivery"
    label = "delivery"
    verbose_name = "Exam delivery"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the privacy receivers
