from django.apps import AppConfig


class InterviewsConfig(AppConfig):
    name = "assessments.interviews"
    label = "interviews"
    verbose_name = "Interviews"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects the privacy receivers
