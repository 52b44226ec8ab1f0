"""Bottlenecks and recommendations over HTTP (staff)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.api.alert_serializers import QuerySerializer
from monitoring.api.insight_serializers import FindingQuerySerializer, FindingSerializer
from monitoring.insights import selectors, services
from tecnocursos.core.api.access import Audience, access
from tecnocursos.core.api.pagination import Pagination, paginated_response
from tecnocursos.core.api.permissions import IsStaff
from tecnocursos.core.types import AuthenticatedRequest


class _KindQuery(QuerySerializer, FindingQuerySerializer):
    pass


@access(Audience.STAFF)
class RecommendationListApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(parameters=[FindingQuerySerializer], responses=FindingSerializer(many=True),
                   summary="Current bottlenecks, each with its evidence and a recommendation, the most severe first")
    def get(self, request: AuthenticatedRequest) -> Response:
        query = _KindQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(FindingSerializer(selectors.findings_open(**query.validated_data), many=True).data)


@access(Audience.STAFF)
class RecommendationHistoryApi(APIView):
    permission_classes = [IsStaff]
    pagination_class = Pagination

    @extend_schema(parameters=[FindingQuerySerializer], responses=FindingSerializer(many=True),
                   summary="Every finding, open and resolved, the most recently seen first")
    def get(self, request: AuthenticatedRequest) -> Response:
        query = _KindQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        return paginated_response(request, self, selectors.findings_all(**query.validated_data), FindingSerializer)


@access(Audience.STAFF)
class RecommendationDetectApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=None, responses=FindingSerializer(many=True),
                   summary="Run bottleneck detection now; the current findings")
    def post(self, request: AuthenticatedRequest) -> Response:
        services.findings_detect()
        return Response(FindingSerializer(selectors.findings_open(), many=True).data)
