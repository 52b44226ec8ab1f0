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
- 429 where the view has throttles (with `Retry-After`);
- 503 everywhere: a dependency (the database, Redis) is down; `Retry-After` says when to retry.
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

    def _map_serializer(self, serializer: Any, direction: str, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer(serializer, direction, bypass_extensions)
        if direction == "request" and isinstance(schema, dict) and "properties" in schema:
            if getattr(serializer, "rejects_unknown_fields", False):
                schema["additionalProperties"] = False
            for name, field in getattr(serializer, "fields", {}).items():
                if name in schema["properties"] and not field.read_only:
                    _tighten(field, schema["properties"][name])
        return schema

    def get_tags(self) -> list[str]:
        # /api/uploads/ -> "uploads", /ws/stats -> "ws": one section per resource.
        parts = [part for part in self._tokenize_path() if part != "api" and not part.startswith("{")]
        return parts[:1] or super().get_tags()

    def get_extensions(self) -> dict[str, Any]:
        audience = self._audience()
        return {**super().get_extensions(), **({"x-access": str(audience)} if audience else {})}

    # drf-spectacular's AutoSchema itself drops the (path, method) of DRF's ViewInspector here.
    def get_description(self) -> str:  # type: ignore[override]
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
        for code in ("429", "503"):
            if code in responses:
                responses[code].setdefault("headers", {})["Retry-After"] = {
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
        codes.append("503")  # every operation reads the database (the caller's user at least)
        return codes


# DRF refuses NUL characters in every CharField, and blank ones after trimming whitespace.
INT64_MAX = 2**63 - 1
NO_NUL = "^[^\\x00]*$"
NOT_EMPTY_NO_NUL = "^[^\\x00]+$"
NOT_BLANK = "^[^\\x00]*[^\\x00\\s][^\\x00]*$"


def _tighten(field: Any, schema: dict[str, Any]) -> None:
    """Constraints the fields enforce that drf-spectacular leaves out of request schemas."""
    if isinstance(field, serializers.ListField):
        if not field.allow_empty:
            schema.setdefault("minItems", 1)
        if isinstance(schema.get("items"), dict):
            _tighten(field.child, schema["items"])
    if isinstance(field, serializers.IntegerField) and schema.get("type") == "integer":
        # What a database integer holds; StrictTypes refuses the rest with a 400.
        schema.setdefault("maximum", INT64_MAX)
        schema.setdefault("minimum", -INT64_MAX - 1)
    if isinstance(field, serializers.FileField) and not field.allow_empty_file:
        schema.setdefault("minLength", 1)
    if not isinstance(field, serializers.CharField) or isinstance(field, serializers.ChoiceField):
        return
    if "oneOf" in schema:
        # drf-spectacular's form for a blank-allowed constrained string: [the constraint, ""]; the
        # constraint must then exclude "" or both branches match and oneOf fails.
        branch = schema["oneOf"][0]
        if branch.get("type") == "string" and "pattern" not in branch and "format" not in branch:
            branch["pattern"] = NOT_EMPTY_NO_NUL
    elif schema.get("type") == "string" and not {"pattern", "format", "enum"} & set(schema):
        blank_refused = not field.allow_blank and field.trim_whitespace
        schema["pattern"] = NOT_BLANK if blank_refused else NO_NUL
