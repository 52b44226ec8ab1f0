"""DRF exception handler: every error is JSON `{"detail": ...}` with a 4xx status."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tecnocursos.core.api.json_errors import RETRY_AFTER_SECONDS, django_error
from tecnocursos.core.exceptions import ApplicationError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, **exc.extra}, status=exc.status_code)
    if error := django_error(exc):
        # Raised while DRF reads the request (query, body) or by a dependency, outside DRF's own handling.
        status_code, message = error
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status_code == 503 else None
        return Response({"detail": message}, status=status_code, headers=headers)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    response = drf_exception_handler(exc, context)
    if response is not None:
        response.data = _with_string_detail(response.data)
        if response.status_code == status.HTTP_401_UNAUTHORIZED:
            response.data = {"detail": response.data["detail"]}  # not simplejwt's token internals
    return response


def _with_string_detail(data: Any) -> dict[str, Any]:
    """`detail` is always one readable string; invalid fields keep their own keys with their messages."""
    if isinstance(data, list):
        return {"detail": " ".join(str(item) for item in data) or "Invalid input.", "errors": data}
    if not isinstance(data, dict):
        return {"detail": str(data)}
    detail = data.get("detail", "Invalid input.")
    if isinstance(detail, list):
        detail = " ".join(str(item) for item in detail)
    return {**data, "detail": str(detail)}
