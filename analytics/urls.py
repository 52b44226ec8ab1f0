from __future__ import annotations

from django.urls import path

from analytics.api import views

urlpatterns = [
    path("export/metrics", views.MetricsExportApi.as_view(), name="analytics-export-metrics"),
    path("dashboard/overview", views.OverviewApi.as_view(), name="analytics-dashboard-overview"),
    path("reports/users", views.UsersReportApi.as_view(), name="analytics-report-users"),
    path("reports/content", views.ContentReportApi.as_view(), name="analytics-report-content"),
    path("reports/performance", views.PerformanceReportApi.as_view(), name="analytics-report-performance"),
]
