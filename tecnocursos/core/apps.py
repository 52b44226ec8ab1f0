from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tecnocursos.core"
    label = "core"
    verbose_name = "Content and accounts"
    default_auto_field = "django.db.models.BigAutoField"
