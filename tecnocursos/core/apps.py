from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tecnocursos.core"
    label = "core"
    verbose_name = "Content and accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate
        from django.urls import register_converter

        from tecnocursos.core.api.converters import IdConverter

        register_converter(IdConverter, "id")  # before any URL conf is loaded

        post_migrate.connect(_sync_schedule, sender=self)


def _sync_schedule(**kwargs: object) -> None:
    # After migrate, so a fresh database gets the periodic tasks with no extra step.
    from tecnocursos.schedule import schedule_sync

    schedule_sync()
