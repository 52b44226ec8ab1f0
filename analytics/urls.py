from __future__ import annotations

from django.urls import path

from analytics.api import views

urlpatterns = [
    path("services/cache", views.CacheStatsApi.as_view(), name="analytics-cache-stats"),
    path("cache/clear", views.CacheClearApi.as_view(), name="analytics-cache-clear"),
]
