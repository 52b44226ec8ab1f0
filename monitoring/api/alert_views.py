"""Alerts over HTTP (staff): the active ones, the history, one alert, and the operator's
acknowledge / silence / unsilence. Rules are edited in the admin; they are listed here."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.alerting import selectors, services
from monitoring.api.alert_serializers import (
    AcknowledgeSerializer,
    ActiveQuerySerializer,
    AlertRuleSerializer,
    AlertSerializer,
    AlertWithEventsSerializer,
    HistoryQuerySerializer,
    SilenceSerializer,
    UnsilenceResultSerializer,
)
from tecnocursos.core.api.access import Audience, access
from tecnocursos.core.api.pagination import Pagination, paginated_response
from tecnocursos.core.api.permissions import IsStaff
from tecnocursos.core.api.schema import error_response
from tecnocursos.core.types import AuthenticatedRequest

NO_ALERT = error_response(404, "No alert with that id.")
RESOLVED = error_response(409, "The alert is resolved: there is nothing to acknowledge.")


@access(Audience.STAFF)
class AlertListApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(parameters=[ActiveQuerySerializer], responses=AlertSerializer(many=True),
                   summary="Active alerts (pending and firing): firing first, the most severe first")
    def get(self, request: AuthenticatedRequest) -> Response:
        query = ActiveQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        alerts = selectors.alerts_active(**query.validated_data)
        return Response(AlertSerializer(alerts, many=True).data)


@access(Audience.STAFF)
class AlertHistoryApi(APIView):
    permission_classes = [IsStaff]
    pagination_class = Pagination

    @extend_schema(parameters=[HistoryQuerySerializer], responses=AlertWithEventsSerializer(many=True),
                   summary="Every alert, newest first, with its transitions and operators' actions")
    def get(self, request: AuthenticatedRequest) -> Response:
        query = HistoryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        alerts = selectors.alerts_history(severity=data.get("severity"), state=data.get("state"),
                                          rule_id=data.get("rule"))
        return paginated_response(request, self, alerts, AlertWithEventsSerializer)


@access(Audience.STAFF)
class AlertRuleListApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=AlertRuleSerializer(many=True),
                   summary="The alert rules (edited in the admin) with their active alerts")
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(AlertRuleSerializer(selectors.rules_list(), many=True).data)


@access(Audience.STAFF)
class AlertDetailApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses={200: AlertWithEventsSerializer, 404: NO_ALERT}, summary="One alert with its history")
    def get(self, request: AuthenticatedRequest, alert_id: int) -> Response:
        return Response(AlertWithEventsSerializer(selectors.alert_get(alert_id=alert_id)).data)


@access(Audience.STAFF)
class AlertAcknowledgeApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=AcknowledgeSerializer, responses={200: AlertSerializer, 404: NO_ALERT, 409: RESOLVED},
                   summary="Acknowledge an active alert: no more repeats (its resolution is still notified)")
    def post(self, request: AuthenticatedRequest, alert_id: int) -> Response:
        alert = selectors.alert_get(alert_id=alert_id)
        body = AcknowledgeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.alert_acknowledge(alert=alert, user=request.user, comment=body.validated_data["comment"])
        return Response(AlertSerializer(selectors.alert_get(alert_id=alert_id)).data)


@access(Audience.STAFF)
class AlertSilenceApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=SilenceSerializer, responses={200: AlertSerializer, 404: NO_ALERT},
                   summary="Silence an alert's notifications until a time (a recurrence stays silenced too)")
    def post(self, request: AuthenticatedRequest, alert_id: int) -> Response:
        alert = selectors.alert_get(alert_id=alert_id)
        body = SilenceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.alert_silence(alert=alert, user=request.user, until=body.validated_data["until"],
                               comment=body.validated_data["comment"])
        return Response(AlertSerializer(selectors.alert_get(alert_id=alert_id)).data)


@access(Audience.STAFF)
class AlertUnsilenceApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=None, responses={200: UnsilenceResultSerializer, 404: NO_ALERT},
                   summary="End the silences of an alert's fingerprint now")
    def post(self, request: AuthenticatedRequest, alert_id: int) -> Response:
        alert = selectors.alert_get(alert_id=alert_id)
        ended = services.alert_unsilence(alert=alert, user=request.user)
        return Response({"ended": ended, "alert": AlertSerializer(selectors.alert_get(alert_id=alert_id)).data})
