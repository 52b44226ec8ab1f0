from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from analytics import pages

urlpatterns = [
    path("admin/", admin.site.urls),
    path("dashboard/", pages.dashboard, name="dashboard"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/analytics/", include("analytics.urls")),
    path("api/", include("tecnocursos.core.urls")),
    path("", include("realtime.urls")),
]

# JSON errors outside DRF views too (unknown paths under /api/, crashes).
handler404 = "tecnocursos.core.api.http_errors.not_found"
handler500 = "tecnocursos.core.api.http_errors.server_error"
