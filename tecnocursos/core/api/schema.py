"""The project's OpenAPI generator: the success responses drf-spectacular finds,
plus what it does not know: who may call each operation (from `@access`) and
every error status the operation can answer, each with the `{"detail": ...}` body.

A view documents only what is particular to it (a 413, a 503); the common errors
follow from the request's shape:
- 400 on every operation (a malformed request: bad JSON, too many fields, bad values);
- 401 unless the audience is public; 403 for staff operations, and for unsafe methods
  of signed-in ones (session callers without a CSRF token);
- 404 where the path names an object, or the list is paginated (a page past the end);
- 415 where there is a request body (a media type the parsers do not take);
- 429 where the view has throttles (with `Retry-After`).
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from tecnocursos.core.api.access import Audience, audience_for


class ErrorSerializer(serializers.Serializer):
    """Every error body. Invalid fields add their own keys: `{"detail", "<field>": [messages]}`."""

    detail = serializers.CharField(help_text="What went wrong, for a person to read.")


ERROR_DESCRIPTIONS = {
    "400": "Invalid request: the body, the query or the form fields (`detail`, and one key per invalid field).",
    "401": "No credentials, or a bad or expired token.",
    "403": "Authenticated, but not allowed (staff only, or a session caller without a CSRF token).",
    "404": "No such object, or not one of the caller's (someone else's object is a 404 too); or a page past the end.",
    "413": "The request body is too large.",
    "415": "The request body's media type is not accepted.",
    "429": "Too many requests; `Retry-After` says how many seconds to wait.",
    "503": "A service this operation needs (Redis, the broker) is unavailable; retry later.",
}


def error_response(code: int | str, description: str | None = None) -> OpenApiResponse:
    """An error response with the standard body, for views that document a particular status."""
    return OpenApiResponse(ErrorSerializer, description=description or ERROR_DESCRIPTIONS.get(str(code), ""))


class AutoSchema(openapi.AutoSchema):
    def _audience(self) -> Audience | None:
        return audience_for(self.view, self.method)

    def get_auth(self) -> list[dict[str, Any]]:
        auths = super().get_auth()
        if self._audience() == Audience.PUBLIC and {} not in auths:
            auths.append({})  # credentials are optional
        return auths

    def get_tags(self) -> list[str]:
        # /api/uploads/ -> "uploads", /ws/stats -> "ws": one section per resource.
        parts = [part for part in self._tokenize_path() if part != "api" and not part.startswith("{")]
        return parts[:1] or super().get_tags()

    def get_extensions(self) -> dict[str, Any]:
        audience = self._audience()
        return {**super().get_extensions(), **({"x-access": str(audience)} if audience else {})}

    def get_description(self) -> str:
        description = super().get_description()
        audience = self._audience()
        if audience is None:
            return description
        note = f"**Access: {audience.value.replace('_', ' ')}.**"
        return f"{description}\n\n{note}" if description else note

    def _get_response_bodies(self, direction: openapi.Direction = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self._error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(error_response(code), code, direction=direction)
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer"}, "description": "Seconds to wait before trying again.",
            }
        return dict(sorted(responses.items()))

    def _error_codes(self) -> list[str]:
        audience = self._audience()
        codes = ["400"]
        if audience != Audience.PUBLIC:
            codes.append("401")
            if audience in (Audience.STAFF, Audience.STAFF_OR_TOKEN) or self.method not in ("GET", "HEAD"):
                codes.append("403")
        if "{" in self.path or (self.method == "GET" and self._is_list_view() and self._get_paginator()):
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None:
            codes.append("415")
        if self.view.get_throttles():
            codes.append("429")
        return codes
