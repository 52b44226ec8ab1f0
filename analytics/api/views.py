"""The analytics API (staff): metrics export, dashboard overview, reports. Thin: validate, call, shape."""

from __future__ import annotations

from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import export, selectors
from analytics.api.serializers import (
    ContentReportSerializer,
    ExportQuerySerializer,
    ExportRowSerializer,
    OverviewSerializer,
    PerformanceReportSerializer,
    PeriodQuerySerializer,
    UsersReportSerializer,
    period_from,
)
from tecnocursos.core.api.access import Audience, access
from tecnocursos.core.api.negotiation import FirstRendererNegotiation
from tecnocursos.core.api.permissions import IsStaff

DOWNLOAD_HEADERS = {"Content-Disposition": {"schema": {"type": "string"},
                                            "description": 'attachment; filename="metrics-<start>-<end>.<ext>"'}}


@access(Audience.STAFF)
class MetricsExportApi(APIView):
    """A download of stored metrics over a range, streamed: memory stays the same for any range.

    Rows are ordered by timestamp, then metric. System series come from the raw samples (step
    `raw`) or from the minute/hour rollups (averaged over hosts); request rates and latency
    percentiles from the request rollups (per minute at most; latency interpolated within
    histogram buckets). A metric without data in the range has no rows.
    """

    permission_classes = [IsStaff]
    renderer_classes = [JSONRenderer]  # errors; the download itself is a StreamingHttpResponse
    content_negotiation_class = FirstRendererNegotiation  # `format` is our parameter: csv or json

    @extend_schema(
        parameters=[ExportQuerySerializer],
        responses={
            (200, "application/json"): OpenApiResponse(ExportRowSerializer(many=True),
                                                       description="`format=json` (the default)."),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="`format=csv`: `timestamp,metric,value`."),
        },
        summary="Export stored metrics as a CSV or JSON download",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        params = ExportQuerySerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        query: export.ExportQuery = params.validated_data["query"]
        fmt: str = params.validated_data["format"]
        chunks = export.encode(query, fmt)
        content = export.as_async(chunks) if isinstance(request._request, ASGIRequest) else chunks
        response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8" if fmt == "csv"
                                         else "application/json")
        response["Content-Disposition"] = f'attachment; filename="{export.filename(query, fmt)}"'
        return response


@access(Audience.STAFF)
class OverviewApi(APIView):
    """Everything the operations dashboard shows at a glance, in one call that reads only latest rows
    and small aggregates. A part whose source fails (or is not set up) is `null`, and `unavailable`
    says why; the call itself still answers 200."""

    permission_classes = [IsStaff]

    @extend_schema(responses=OverviewSerializer, summary="Dashboard overview: system, requests, users, alerts, "
                                                         "cache, backups, WebSocket, uploads")
    def get(self, request: Request) -> Response:
        return Response(selectors.dashboard_overview())


REPORT_PARAMS = [PeriodQuerySerializer]


@access(Audience.STAFF)
class UsersReportApi(APIView):
    """Accounts, active users (from monitoring's per-day activity rows), new and returning users,
    logins, a per-day series and the most active users, with the previous period for comparison."""

    permission_classes = [IsStaff]

    @extend_schema(parameters=REPORT_PARAMS, responses=UsersReportSerializer, summary="Users report")
    def get(self, request: Request) -> Response:
        period = period_from(request.query_params)
        return Response(selectors.users_report(period.start, period.end))


@access(Audience.STAFF)
class ContentReportApi(APIView):
    """Courses and uploads: counts, bytes, by type and status, processing time, failure reasons,
    top uploaders, a per-day series, with the previous period for comparison."""

    permission_classes = [IsStaff]

    @extend_schema(parameters=REPORT_PARAMS, responses=ContentReportSerializer, summary="Content report")
    def get(self, request: Request) -> Response:
        period = period_from(request.query_params)
        return Response(selectors.content_report(period.start, period.end))


@access(Audience.STAFF)
class PerformanceReportApi(APIView):
    """Requests, error rate, latency percentiles (merged histograms, interpolated), throughput,
    Apdex, the slowest and most failing routes and system peaks, from the request and metric
    rollups (per minute up to 6 h, per hour beyond), with the previous period for comparison."""

    permission_classes = [IsStaff]

    @extend_schema(parameters=REPORT_PARAMS, responses=PerformanceReportSerializer, summary="Performance report")
    def get(self, request: Request) -> Response:
        period = period_from(request.query_params)
        return Response(selectors.performance_report(period.start, period.end))
