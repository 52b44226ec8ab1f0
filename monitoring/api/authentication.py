"""`Authorization: Bearer <METRICS_TOKEN>` for Prometheus scrapers of GET /metrics.

Tried before JWT: a header holding the metrics token authenticates as the scraper; any
other bearer value is left to the JWT authenticator (a bad one is then its 401).
"""

from __future__ import annotations

import hmac
from typing import Any

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

METRICS_AUTH = "metrics-token"


class MetricsScraper:
    """The principal of a request that presented the metrics token: not a user, not staff."""

    pk = None
    id = None
    is_authenticated = True
    is_staff = False
    is_active = True
    username = "metrics-scraper"

    def __str__(self) -> str:
        return self.username


class MetricsTokenAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[MetricsScraper, str] | None:
        expected = settings.METRICS_TOKEN
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, value = header.partition(" ")
        if not expected or scheme.lower() != "bearer":
            return None
        if hmac.compare_digest(value.strip().encode(), expected.encode()):
            return MetricsScraper(), METRICS_AUTH
        return None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class IsStaffOrMetricsToken(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if request.auth == METRICS_AUTH:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


class MetricsTokenScheme(OpenApiAuthenticationExtension):
    target_class = MetricsTokenAuthentication
    name = "metricsToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {"type": "http", "scheme": "bearer",
                "description": "The METRICS_TOKEN setting, for Prometheus scrapers (GET /metrics only)."}
