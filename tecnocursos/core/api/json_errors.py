"""JSON for every error under the API's paths, from anywhere in the stack.

DRF's exception handler (`exception_handler.py`) shapes errors raised inside DRF views.
Everything else answers HTML by default: an unknown URL, Django's own 400s
(`TooManyFieldsSent`, `RequestDataTooBig` and other `SuspiciousOperation`s, raised while
parsing before DRF sees the request), the CSRF failure page, a crash, and with DEBUG on
the technical pages. This middleware, outermost, turns each of them into
`{"detail": ...}` with the same status and headers, so clients parse one shape.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin

from tecnocursos.lib.redis_clients import REDIS_DOWN

logger = logging.getLogger(__name__)
JSON_PATH_PREFIXES = ("/api/", "/ws/", "/metrics")
# Headers an error keeps when its body is replaced.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(JSON_PATH_PREFIXES)


RETRY_AFTER_SECONDS = 5  # what a 503 suggests: dependencies come back within seconds or page someone


def json_error(status: int, detail: str | None = None) -> JsonResponse:
    phrase = HTTPStatus(status).phrase.capitalize() if status in HTTPStatus._value2member_map_ else "Error"
    response = JsonResponse({"detail": detail or f"{phrase}."}, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def django_error(exc: Exception) -> tuple[int, str] | None:
    """Status and message for the exceptions that are not bugs: Django's 4xx, a database or Redis outage."""
    if isinstance(exc, RequestDataTooBig):
        return 413, "The request body is too large."
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return 400, str(exc)  # names the setting and the limit, nothing private
    if isinstance(exc, SuspiciousOperation):
        return 400, "Bad request."
    if isinstance(exc, Http404):
        return 404, "Not found."
    if isinstance(exc, PermissionDenied):
        return 403, "You do not have permission to perform this action."
    if isinstance(exc, DatabaseOperationalError | DatabaseInterfaceError):
        # The database restarting or unreachable: the request may be retried, it is not a bug.
        logger.warning("database unavailable: %s", exc)
        return 503, "The database is unavailable; try again shortly."
    if isinstance(exc, REDIS_DOWN):
        # Presence, progress, the channel layer: Redis restarting, unreachable or its pool exhausted.
        logger.warning("redis unavailable: %s", exc)
        return 503, "A service this request needs (Redis) is unavailable; try again shortly."
    return None  # a crash: Django logs it and answers 500, which process_response turns into JSON


class JsonErrorMiddleware(MiddlewareMixin):
    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        error = django_error(exception) if wants_json(request) else None
        return json_error(*error) if error else None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if response.status_code < 400 or not wants_json(request):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        detail = "Internal server error." if response.status_code >= 500 else None
        if response.status_code == 403:
            detail = "Forbidden (CSRF check failed or not allowed)."
        replacement = json_error(response.status_code, detail)
        for header in _KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        return replacement
