"""Monitoring's endpoints, mounted in tecnocursos/urls.py at their CONTRACT paths."""

from __future__ import annotations

from django.urls import path

from monitoring.api import alert_views, insight_views, views

urlpatterns = [
    path("api/analytics/system/metrics", views.SystemMetricsApi.as_view(), name="monitoring-system-metrics"),
    path("api/analytics/system/health", views.HealthApi.as_view(), name="monitoring-health"),
    path("api/analytics/control/stop", views.CollectionStopApi.as_view(), name="monitoring-control-stop"),
    path("api/analytics/control/start", views.CollectionStartApi.as_view(), name="monitoring-control-start"),
    path("metrics", views.MetricsApi.as_view(), name="monitoring-metrics"),
    path("api/analytics/alerts", alert_views.AlertListApi.as_view(), name="alert-list"),
    path("api/analytics/alerts/history", alert_views.AlertHistoryApi.as_view(), name="alert-history"),
    path("api/analytics/alerts/rules", alert_views.AlertRuleListApi.as_view(), name="alert-rule-list"),
    path("api/analytics/alerts/<id:alert_id>", alert_views.AlertDetailApi.as_view(), name="alert-detail"),
    path("api/analytics/alerts/<id:alert_id>/acknowledge", alert_views.AlertAcknowledgeApi.as_view(),
         name="alert-acknowledge"),
    path("api/analytics/alerts/<id:alert_id>/silence", alert_views.AlertSilenceApi.as_view(), name="alert-silence"),
    path("api/analytics/recommendations", insight_views.RecommendationListApi.as_view(), name="recommendation-list"),
    path("api/analytics/recommendations/history", insight_views.RecommendationHistoryApi.as_view(),
         name="recommendation-history"),
    path("api/analytics/recommendations/detect", insight_views.RecommendationDetectApi.as_view(),
         name="recommendation-detect"),
    path("api/analytics/alerts/<id:alert_id>/unsilence", alert_views.AlertUnsilenceApi.as_view(),
         name="alert-unsilence"),
]
