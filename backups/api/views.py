from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backups import selectors, services
from backups.api.serializers import (
    BackupOverviewSerializer,
    ManualRunInputSerializer,
    RunSerializer,
    RunStartedSerializer,
    VerifyStartedSerializer,
)
from backups.models import BackupRun
from tecnocursos.core.api.access import Audience, access
from tecnocursos.core.api.pagination import Pagination, paginated_response
from tecnocursos.core.api.permissions import IsStaff
from tecnocursos.core.api.schema import error_response
from tecnocursos.core.exceptions import ApplicationError

CONFLICT = error_response(409, "A run of this configuration is already queued or running.")


@access(Audience.STAFF)
class ManualBackupApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        request=ManualRunInputSerializer,
        responses={202: RunStartedSerializer, 409: CONFLICT},
        summary="Start a backup of a configuration now; `progress` events follow with the task_id",
    )
    def post(self, request: Request, config_name: str) -> Response:
        config = selectors.config_get(name=config_name)
        serializer = ManualRunInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        run = services.backup_request(config=config, user=request.user, trigger=BackupRun.Trigger.API,
                                      kind=serializer.validated_data.get("kind"))
        body = {"backup_id": run.id, "task_id": run.task_id, "status": run.status, "config": config.name,
                "kind": run.kind}
        return Response(RunStartedSerializer(body).data, status=status.HTTP_202_ACCEPTED)


def _choice(request: Request, name: str, choices: list[str]) -> str | None:
    value = request.query_params.get(name)
    if value is not None and value not in choices:
        raise ApplicationError(f"{name} must be one of: {', '.join(choices)}.")
    return value


@access(Audience.STAFF)
class HistoryApi(APIView):
    permission_classes = [IsStaff]
    pagination_class = Pagination

    @extend_schema(
        responses=RunSerializer(many=True),
        parameters=[
            OpenApiParameter("config", OpenApiTypes.STR, description="Only this configuration's runs."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=BackupRun.Status.values),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=BackupRun.Kind.values),
        ],
        summary="Backup runs, newest first",
    )
    def get(self, request: Request) -> Response:
        runs = selectors.run_list(
            config=request.query_params.get("config"),
            status=_choice(request, "status", BackupRun.Status.values),
            kind=_choice(request, "kind", BackupRun.Kind.values),
        )
        return paginated_response(request, self, runs, RunSerializer)


@access(Audience.STAFF)
class RunDetailApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=RunSerializer, summary="One backup run")
    def get(self, request: Request, run_id: int) -> Response:
        return Response(RunSerializer(selectors.run_get(run_id=run_id)).data)


@access(Audience.STAFF)
class VerifyApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(
        request=None,
        responses={202: VerifyStartedSerializer, 409: error_response(409, "The run is not completed.")},
        summary="Verify a run in the background: decrypt and check every file against its manifest",
    )
    def post(self, request: Request, run_id: int) -> Response:
        run = services.backup_verify_request(run=selectors.run_get(run_id=run_id), user=request.user)
        body = {"backup_id": run.id, "task_id": run.task_id, "status": "queued"}
        return Response(VerifyStartedSerializer(body).data, status=status.HTTP_202_ACCEPTED)


@access(Audience.STAFF)
class BackupServiceApi(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=BackupOverviewSerializer, summary="Backups: the last one, counts, total size, configs")
    def get(self, request: Request) -> Response:
        return Response(BackupOverviewSerializer(selectors.backup_overview()).data)
