from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from drf_spectacular.utils import OpenApiRequest, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from tecnocursos.core import selectors, services
from tecnocursos.core.api.access import Audience, access
from tecnocursos.core.api.pagination import Pagination, paginated_response
from tecnocursos.core.api.schema import error_response
from tecnocursos.core.api.serializers import (
    AccessTokenSerializer,
    CourseSerializer,
    TokenPairSerializer,
    UploadDetailSerializer,
    UploadInputSerializer,
    UploadSerializer,
)
from tecnocursos.core.api.throttles import LoginFailureThrottle
from tecnocursos.core.exceptions import ApplicationError
from tecnocursos.core.types import AuthenticatedRequest


@access(Audience.PUBLIC)
class TokenObtainApi(TokenObtainPairView):
    """A token pair for a username and password. Failed attempts are throttled per username and address."""

    throttle_classes = [LoginFailureThrottle]
    _serializer: Any = None

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        self._serializer = super().get_serializer(*args, **kwargs)
        return self._serializer

    @extend_schema(responses={200: TokenPairSerializer, 401: error_response(401, "Wrong username or password.")})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        throttle = LoginFailureThrottle()
        try:
            response = super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            throttle.record_failure(request)
            raise
        throttle.record_success(request)
        user = getattr(self._serializer, "user", None)
        if user is not None:
            # A sign-in like a session login: last_login is set by Django's own receiver, others count it.
            user_logged_in.send(sender=type(user), request=request._request, user=user, via="token")
        return response


@access(Audience.PUBLIC)
class TokenRefreshApi(TokenRefreshView):
    """A new access token for a refresh token."""

    @extend_schema(responses={
        200: AccessTokenSerializer,
        401: error_response(401, "The refresh token is invalid or expired, or its user is gone."),
    })
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().post(request, *args, **kwargs)


def upload_encoding() -> dict[str, Any]:
    """The file part's name must end in an allowed extension: said in the schema, where clients read it."""
    extensions = "|".join(sorted(settings.UPLOAD_ALLOWED_EXTENSIONS))
    disposition = {
        "description": f"The file name must end in one of: {extensions.replace('|', ', ')}.",
        "schema": {"type": "string", "pattern": f'filename="[^"/\\\\]+\\.({extensions})"'},
        "example": 'form-data; name="file"; filename="lesson-1.txt"',
    }
    return {"file": {"headers": {"Content-Disposition": disposition}}}


@access(Audience.USER)
class UploadListCreateApi(APIView):
    # Multipart only: a file cannot travel url-encoded.
    parser_classes = [MultiPartParser]
    pagination_class = Pagination

    @extend_schema(responses=UploadSerializer(many=True), summary="The caller's uploads (staff: all), newest first")
    def get(self, request: AuthenticatedRequest) -> Response:
        return paginated_response(request, self, selectors.upload_list(user=request.user), UploadSerializer)

    @extend_schema(
        request={"multipart/form-data": OpenApiRequest(UploadInputSerializer, encoding=upload_encoding())},
        responses={
            201: UploadSerializer,
            404: error_response(404, "No such course, or not one the caller may see."),
            413: error_response(413, "The file is larger than UPLOAD_MAX_BYTES."),
        },
        summary="Upload a file; processing runs in the background and reports `progress` events",
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        # Refuse an oversized body before reading it.
        length = request.META.get("CONTENT_LENGTH")
        services.upload_check_size(int(length) - 64 * 1024 if length and length.isdigit() else None)
        if stray := sorted(set(request.FILES) - {"file"}):
            # A file part under another name (an empty file input sends one) is a mistake, not "no value".
            raise ApplicationError(f"Only the `file` field may carry a file, not {', '.join(stray)}.")
        serializer = UploadInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course_id = serializer.validated_data.get("course")
        course = selectors.course_get(user=request.user, course_id=course_id) if course_id else None
        upload = services.upload_create(owner=request.user, file=serializer.validated_data["file"], course=course)
        return Response(UploadSerializer(upload).data, status=status.HTTP_201_CREATED)


@access(Audience.USER)
class UploadDetailApi(APIView):
    @extend_schema(responses=UploadDetailSerializer, summary="One upload, with its extracted text")
    def get(self, request: AuthenticatedRequest, upload_id: int) -> Response:
        upload = selectors.upload_get(user=request.user, upload_id=upload_id)
        return Response(UploadDetailSerializer(upload).data)


@access(Audience.USER)
class CourseListCreateApi(APIView):
    pagination_class = Pagination

    @extend_schema(responses=CourseSerializer(many=True), summary="Courses the caller may see")
    def get(self, request: AuthenticatedRequest) -> Response:
        return paginated_response(request, self, selectors.course_list(user=request.user), CourseSerializer)

    @extend_schema(request=CourseSerializer, responses={201: CourseSerializer}, summary="Create a course")
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = CourseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        course = services.course_create(owner=request.user, **serializer.validated_data)
        return Response(CourseSerializer(course).data, status=status.HTTP_201_CREATED)


@access(Audience.USER)
class CourseDetailApi(APIView):
    @extend_schema(responses=CourseSerializer, summary="One course")
    def get(self, request: AuthenticatedRequest, course_id: int) -> Response:
        return Response(CourseSerializer(selectors.course_get(user=request.user, course_id=course_id)).data)


@access(Audience.PUBLIC)
class SchemaApi(SpectacularAPIView):
    """The OpenAPI 3 schema of this API."""


@access(Audience.PUBLIC)
class DocsPage(SpectacularSwaggerView):
    """Swagger UI over the schema, its assets served locally."""
