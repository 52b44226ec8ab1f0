from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tecnocursos.core import selectors, services
from tecnocursos.core.api.pagination import paginated_response
from tecnocursos.core.api.serializers import (
    CourseSerializer,
    UploadDetailSerializer,
    UploadInputSerializer,
    UploadSerializer,
)


class UploadListCreateApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=UploadSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginated_response(request, self, selectors.upload_list(user=request.user), UploadSerializer)

    @extend_schema(request=UploadInputSerializer, responses={201: UploadSerializer})
    def post(self, request: Request) -> Response:
        # Refuse an oversized body before reading it.
        length = request.META.get("CONTENT_LENGTH")
        services.upload_check_size(int(length) - 64 * 1024 if length and length.isdigit() else None)
        serializer = UploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course_id = serializer.validated_data.get("course")
        course = selectors.course_get(user=request.user, course_id=course_id) if course_id else None
        upload = services.upload_create(owner=request.user, file=serializer.validated_data["file"], course=course)
        return Response(UploadSerializer(upload).data, status=status.HTTP_201_CREATED)


class UploadDetailApi(APIView):
    @extend_schema(responses=UploadDetailSerializer)
    def get(self, request: Request, upload_id: int) -> Response:
        upload = selectors.upload_get(user=request.user, upload_id=upload_id)
        return Response(UploadDetailSerializer(upload).data)


class CourseListCreateApi(APIView):
    @extend_schema(responses=CourseSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginated_response(request, self, selectors.course_list(user=request.user), CourseSerializer)

    @extend_schema(request=CourseSerializer, responses={201: CourseSerializer})
    def post(self, request: Request) -> Response:
        serializer = CourseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.course_create(owner=request.user, **serializer.validated_data)
        return Response(CourseSerializer(course).data, status=status.HTTP_201_CREATED)


class CourseDetailApi(APIView):
    @extend_schema(responses=CourseSerializer)
    def get(self, request: Request, course_id: int) -> Response:
        return Response(CourseSerializer(selectors.course_get(user=request.user, course_id=course_id)).data)
