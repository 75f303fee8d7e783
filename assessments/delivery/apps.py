from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "assessments.delivery"
    label = "delivery"
    verbose_name = "Exam delivery"
