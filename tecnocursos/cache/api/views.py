from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from tecnocursos.cache.api.serializers import CacheClearResultSerializer, CacheClearSerializer, CacheStatsSerializer
from tecnocursos.cache.selectors import cache_stats
from tecnocursos.cache.services import cache_clear
from tecnocursos.core.api.access import Audience, access
from tecnocursos.core.api.permissions import IsStaff
from tecnocursos.core.types import AuthenticatedRequest


@access(Audience.STAFF)
class CacheStatsApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=CacheStatsSerializer)
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(cache_stats())


@access(Audience.STAFF)
class CacheClearApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=CacheClearSerializer, responses=CacheClearResultSerializer)
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = CacheClearSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(cache_clear(tags=serializer.validated_data.get("tags")))
