"""Monitoring's endpoints, mounted in tecnocursos/urls.py at their CONTRACT paths."""

from __future__ import annotations

from django.urls import path

from monitoring.api import views

urlpatterns = [
    path("api/analytics/system/metrics", views.SystemMetricsApi.as_view(), name="monitoring-system-metrics"),
    path("api/analytics/system/health", views.HealthApi.as_view(), name="monitoring-health"),
    path("api/analytics/control/stop", views.CollectionStopApi.as_view(), name="monitoring-control-stop"),
    path("api/analytics/control/start", views.CollectionStartApi.as_view(), name="monitoring-control-start"),
    path("metrics", views.MetricsApi.as_view(), name="monitoring-metrics"),
]
