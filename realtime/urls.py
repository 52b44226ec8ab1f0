from __future__ import annotations

from django.urls import path

from realtime.api import views

# Included at the root: the contract puts these under /ws/ and /api/.
urlpatterns = [
    path("ws/stats", views.StatsApi.as_view(), name="ws-stats"),
    path("ws/rooms", views.RoomsApi.as_view(), name="ws-rooms"),
    path("ws/broadcast", views.BroadcastApi.as_view(), name="ws-broadcast"),
    path("api/notifications/", views.NotificationListCreateApi.as_view(), name="notification-list"),
    path("api/notifications/read/", views.NotificationReadApi.as_view(), name="notification-read"),
    path("api/notifications/<id:notification_id>/read/", views.NotificationDetailReadApi.as_view(),
         name="notification-detail-read"),
]
