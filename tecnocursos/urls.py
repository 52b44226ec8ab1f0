from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from analytics import pages
from backups.api import views as backup_views
from tecnocursos.core.api import views as core_views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", pages.landing, name="landing"),
    path("accounts/login/", pages.login, name="login"),
    path("accounts/logout/", pages.logout, name="logout"),
    path("accounts/token/", pages.token, name="page-token"),
    path("dashboard/", pages.dashboard, name="dashboard"),
    path("chat/", pages.chat, name="chat"),
    path("api/schema/", core_views.SchemaApi.as_view(), name="schema"),
    path("api/docs/", core_views.DocsPage.as_view(url_name="schema"), name="api-docs"),
    path("", include("monitoring.urls")),  # /api/analytics/system/..., /api/analytics/control/..., /metrics
    # The contract puts the cache's API under /api/analytics/; the cache app owns it.
    path("api/analytics/", include("tecnocursos.cache.urls")),
    path("api/analytics/services/backup", backup_views.BackupServiceApi.as_view(), name="analytics-backup"),
    path("api/analytics/", include("analytics.urls")),
    path("api/backup/", include("backups.urls")),
    path("api/", include("tecnocursos.core.urls")),
    path("", include("realtime.urls")),
]

