from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "assessments.analytics"
    label = "analytics"
    verbose_name = "Results and analytics"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the analysis and privacy receivers
