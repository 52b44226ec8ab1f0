"""The cache's HTTP API, mounted under /api/analytics/ (the paths the client contract names)."""

from __future__ import annotations

from django.urls import path

from tecnocursos.cache.api import views

urlpatterns = [
    path("services/cache", views.CacheStatsApi.as_view(), name="cache-stats"),
    path("cache/clear", views.CacheClearApi.as_view(), name="cache-clear"),
]
