from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

from monitoring import exposition, health, selectors, services
from monitoring.api.authentication import IsStaffOrMetricsToken, MetricsTokenAuthentication
from monitoring.api.serializers import (
    ControlStateSerializer,
    HealthSerializer,
    SystemMetricsQuerySerializer,
    SystemMetricsSerializer,
)
from monitoring.recorder import recorder
from tecnocursos.core.api.access import Audience, access
from tecnocursos.core.api.negotiation import FirstRendererNegotiation
from tecnocursos.core.api.permissions import IsStaff
from tecnocursos.core.api.schema import error_response

REDIS_DOWN = error_response(503, "The monitoring state lives in Redis, which is unavailable.")


@access(Audience.STAFF)
class SystemMetricsApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        parameters=[SystemMetricsQuerySerializer],
        responses={200: SystemMetricsSerializer, 404: error_response(404, "No sample collected yet (for that host).")},
        summary="The latest system sample: CPU, memory, swap, disk, network and this deployment's processes",
    )
    def get(self, request: Request) -> Response:
        query = SystemMetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        snapshot = selectors.snapshot_latest(host=query.validated_data.get("host"))
        return Response(SystemMetricsSerializer(snapshot).data)


def _control(request: Request, *, collecting: bool) -> Response:
    state = services.collection_set(collecting=collecting, by=request.user.get_username())
    return Response(ControlStateSerializer(state).data)


@access(Audience.STAFF)
class CollectionStopApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=None, responses={200: ControlStateSerializer, 503: REDIS_DOWN},
                   summary="Pause all collection (system, requests, tasks, WebSocket) in every process")
    def post(self, request: Request) -> Response:
        return _control(request, collecting=False)


@access(Audience.STAFF)
class CollectionStartApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=None, responses={200: ControlStateSerializer, 503: REDIS_DOWN},
                   summary="Resume all collection in every process")
    def post(self, request: Request) -> Response:
        return _control(request, collecting=True)


@access(Audience.PUBLIC)
class HealthApi(APIView):
    """Database, cache, channel layer, Celery workers and disk space.

    Anonymous callers and non-staff users get `status` only (and `detail` when unhealthy);
    staff get every check with its latency. Results are reused for
    MONITORING_HEALTH_CACHE_SECONDS, so a load balancer may call it every second.
    """

    permission_classes = [AllowAny]

    @extend_schema(
        responses={200: HealthSerializer,
                   503: OpenApiResponse(HealthSerializer, description="Unhealthy: a critical dependency is down.")},
        summary="Health of the service and its dependencies",
    )
    def get(self, request: Request) -> Response:
        report = health.report()
        unhealthy = report.status == health.UNHEALTHY
        body: dict[str, Any] = {"status": report.status}
        staff = bool(request.user and request.user.is_authenticated and request.user.is_staff)
        if unhealthy:
            body["detail"] = (f"Failing: {', '.join(report.failed)}." if staff
                              else "A critical dependency is failing.")
        if staff:
            body["checks"] = {name: result.as_dict() for name, result in report.checks.items()}
            body["checked_at"] = report.checked_at
        return Response(body, status=503 if unhealthy else 200)


@access(Audience.STAFF_OR_TOKEN)
class MetricsApi(APIView):
    """Prometheus text exposition (format 0.0.4) of the whole deployment: every web process and worker.

    For staff (JWT or session) or a scraper sending `Authorization: Bearer <METRICS_TOKEN>`.
    Errors are JSON like everywhere else.
    """

    authentication_classes = [MetricsTokenAuthentication, JWTAuthentication, SessionAuthentication]
    permission_classes = [IsStaffOrMetricsToken]
    renderer_classes = [JSONRenderer]  # errors; the exposition itself is a plain HttpResponse
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Prometheus text format 0.0.4")},
        summary="Prometheus metrics",
    )
    def get(self, request: Request) -> HttpResponse:
        recorder().flush()  # this process's latest counts too
        return HttpResponse(exposition.render(), content_type=CONTENT_TYPE_PLAIN_0_0_4)
