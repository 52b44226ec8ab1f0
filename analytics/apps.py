from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin
        from django.contrib.auth import get_user_model

        from analytics import signals

        signals.connect(get_user_model())
        # The admin's front page adds the key numbers and a link to the dashboard.
        admin.site.index_template = "analytics/admin_index.html"
        admin.site.site_header = "TecnoCursos AI administration"
        admin.site.site_url = "/"
