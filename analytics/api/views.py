"""The analytics API (staff): metrics export, dashboard overview, reports. Thin: validate, call, shape."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from analytics import export
from analytics.api.serializers import ExportQuerySerializer, ExportRowSerializer
from tecnocursos.core.api.access import Audience, access
from tecnocursos.core.api.permissions import IsStaff


class _JsonErrors(BaseContentNegotiation):
    """`format` is the export's own parameter (csv or json), not DRF's renderer override."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
                        ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


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
    content_negotiation_class = _JsonErrors

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
