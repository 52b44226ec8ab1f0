from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from realtime import presence, selectors, services
from realtime.api.serializers import (
    BroadcastSerializer,
    NotificationCreateSerializer,
    NotificationReadResultSerializer,
    NotificationReadSerializer,
    NotificationSerializer,
    RoomPresenceSerializer,
    StatsSerializer,
)
from tecnocursos.core.api.access import Audience, access
from tecnocursos.core.api.pagination import Pagination, paginated_response
from tecnocursos.core.api.permissions import IsStaff
from tecnocursos.core.api.schema import error_response
from tecnocursos.core.exceptions import ApplicationError
from tecnocursos.core.selectors import user_get_active
from tecnocursos.core.types import AuthenticatedRequest


@access(Audience.STAFF)
class StatsApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=StatsSerializer, summary="WebSocket statistics across every server process")
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(StatsSerializer(presence.stats()).data)


@access(Audience.USER)
class RoomsApi(APIView):
    @extend_schema(responses=RoomPresenceSerializer(many=True), summary="Rooms with live members")
    def get(self, request: AuthenticatedRequest) -> Response:
        rooms = selectors.rooms_visible(user=request.user, rooms=presence.rooms())
        return Response(RoomPresenceSerializer(rooms, many=True).data)


@access(Audience.STAFF)
class BroadcastApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=BroadcastSerializer, responses={202: NotificationSerializer},
                   summary="A notification with broadcast: true to every connected user")
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = BroadcastSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        notification = services.broadcast_send(sender=request.user, **serializer.validated_data)
        return Response(NotificationSerializer(notification).data, status=status.HTTP_202_ACCEPTED)


def _unread_param(request: Request) -> bool | None:
    value = request.query_params.get("unread")
    if value is None:
        return None
    if value.lower() not in ("true", "false", "1", "0"):
        raise ApplicationError("unread must be true or false.")
    return value.lower() in ("true", "1")


@access(get=Audience.USER, post=Audience.STAFF)
class NotificationListCreateApi(APIView):
    pagination_class = Pagination

    def get_permissions(self) -> list[BasePermission]:
        return [IsStaff()] if self.request.method == "POST" else [IsAuthenticated()]

    @extend_schema(
        responses=NotificationSerializer(many=True),
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only unread (true) or read (false).")],
        summary="The caller's own notifications, newest first",
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        queryset = selectors.notification_list(user=request.user, unread=_unread_param(request))
        return paginated_response(request, self, queryset, NotificationSerializer)

    @extend_schema(request=NotificationCreateSerializer,
                   responses={201: NotificationSerializer, 404: error_response(404, "No active user with that id.")},
                   summary="Send a notification to a user (staff): pushed live and kept")
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = NotificationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        recipient = user_get_active(user_id=data["user"])
        notification = services.notification_send(
            sender=request.user, user=recipient, title=data["title"], message=data["message"], level=data["level"]
        )
        return Response(NotificationSerializer(notification).data, status=status.HTTP_201_CREATED)


@access(Audience.USER)
class NotificationReadApi(APIView):
    @extend_schema(request=NotificationReadSerializer, responses=NotificationReadResultSerializer,
                   operation_id="notifications_mark_read",
                   summary="Mark the caller's notifications read (the given ids, or all)")
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = NotificationReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated = services.notification_mark_read(user=request.user, ids=serializer.validated_data.get("ids"))
        return Response({"updated": updated})


@access(Audience.USER)
class NotificationDetailReadApi(APIView):
    @extend_schema(request=None, responses=NotificationSerializer, operation_id="notification_mark_read",
                   summary="Mark one notification read")
    def post(self, request: AuthenticatedRequest, notification_id: int) -> Response:
        notification = selectors.notification_get(user=request.user, notification_id=notification_id)
        services.notification_mark_read(user=request.user, ids=[notification.id])
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)
