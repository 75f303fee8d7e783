from django.apps import AppConfig


class ProbeAppConfig(AppConfig):
    name = "tests.probe_app"
    label = "probe"
