from __future__ import annotations

from django.urls import URLPattern

# Reports, dashboard overview and export land here (issue: analytics and the web UI).
urlpatterns: list[URLPattern] = []
