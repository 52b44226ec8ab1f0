from __future__ import annotations

from django.urls import path

from backups.api import views

# Included at /api/backup/ (CONTRACT); the analytics summary is routed in tecnocursos/urls.py.
urlpatterns = [
    path("manual/<str:config_name>", views.ManualBackupApi.as_view(), name="backup-manual"),
    path("history", views.HistoryApi.as_view(), name="backup-history"),
    path("history/<id:run_id>", views.RunDetailApi.as_view(), name="backup-detail"),
    path("history/<id:run_id>/verify", views.VerifyApi.as_view(), name="backup-verify"),
]
