from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = "Monitoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from celery import signals
        from django.db.backends.signals import connection_created

        from monitoring import db_metrics, task_metrics

        connection_created.connect(db_metrics.instrument, dispatch_uid="monitoring.db_metrics")
        signals.task_prerun.connect(task_metrics.on_prerun, dispatch_uid="monitoring.task_prerun")
        signals.task_postrun.connect(task_metrics.on_postrun, dispatch_uid="monitoring.task_postrun")
        signals.worker_ready.connect(task_metrics.on_worker_ready, dispatch_uid="monitoring.worker_ready")
        signals.worker_shutdown.connect(task_metrics.on_worker_shutdown, dispatch_uid="monitoring.worker_shutdown")
