from __future__ import annotations

from django.urls import path

from analytics.api import views

urlpatterns = [
    path("export/metrics", views.MetricsExportApi.as_view(), name="analytics-export-metrics"),
]
