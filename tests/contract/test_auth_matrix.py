"""Every HTTP route of the URL conf, called as anonymous, user and staff, and with broken
tokens (expired, bad signature, alg=none, a refresh token used as access): the outcome must
be the one its `@access` declaration promises (tecnocursos/core/api/access.py).

Routes come from the URL conf itself, so a new route is checked the day it exists, and a
route without a declaration fails here. Routes that name an object are also called with an
id that does not exist and with someone else's object: both are 404 for a plain user.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tecnocursos.core.api.access import Audience, access_rules

pytestmark = pytest.mark.django_db

# Django's own admin has its own permission system and test (test_schema_and_admin.py).
EXCLUDED_PREFIXES = ("admin/",)
MISSING_ID = 987654321


@dataclass(frozen=True)
class Route:
    pattern: str  # e.g. "api/uploads/<int:upload_id>/"
    callback: Any
    kwargs: tuple[str, ...]

    def path(self, values: dict[str, Any]) -> str:
        path = self.pattern
        for name in self.kwargs:
            start = path.index("<")
            path = path[:start] + str(values[name]) + path[path.index(">", start) + 1:]
        return "/" + path


def routes(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[Route]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        pattern = prefix + str(entry.pattern)
        if pattern.startswith(EXCLUDED_PREFIXES):
            continue
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, pattern)
        elif isinstance(entry, URLPattern):
            yield Route(pattern, entry.callback, tuple(entry.pattern.converters))


def undeclared(found: Iterator[Route]) -> list[str]:
    return sorted(route.pattern for route in found if access_rules(route.callback) is None)


def test_every_route_declares_who_may_call_it():
    assert undeclared(routes()) == []


def test_a_route_without_a_declaration_is_reported():
    from django.urls import path
    from rest_framework.views import APIView

    class Forgotten(APIView):
        pass

    assert undeclared(routes([path("api/forgotten/", Forgotten.as_view())])) == ["api/forgotten/"]


# --- Callers ----------------------------------------------------------------------


def bearer(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def expired(user: Any) -> str:
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=5))
    return str(token)


def bad_signature(user: Any) -> str:
    head, payload, signature = str(AccessToken.for_user(user)).split(".")
    return f"{head}.{payload}.{signature[::-1]}"


def alg_none(user: Any) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = dict(AccessToken.for_user(user).payload)
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


BROKEN_TOKENS: dict[str, Callable[[Any], str]] = {
    "expired": expired,
    "bad signature": bad_signature,
    "alg=none": alg_none,
    "refresh as access": lambda user: str(RefreshToken.for_user(user)),
}


def session(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Objects for routes that name one --------------------------------------------
# Keyed by the URL kwarg: a new kind of object needs its factory here (the test says so).


def _upload(owner: Any) -> int:
    from django.core.files.base import ContentFile

    from tecnocursos.core.models import Upload

    upload = Upload(owner=owner, original_name="notes.txt", size=2)
    upload.file.save("notes.txt", ContentFile(b"hi"), save=True)
    return upload.id


def _course(owner: Any) -> int:
    from tecnocursos.core.models import Course

    return Course.objects.create(owner=owner, title="Private", is_published=False).id


def _notification(owner: Any) -> int:
    from realtime.services import notification_send

    return notification_send(user=owner, title="t", message="m").id


OWNED_OBJECT_FACTORIES: dict[str, Callable[[Any], int]] = {
    "upload_id": _upload,
    "course_id": _course,
    "notification_id": _notification,
}


# --- The matrix --------------------------------------------------------------------

DENIED = {401, 403}


def call(client: Client, method: str, path: str) -> int:
    body = {} if method in ("POST", "PUT", "PATCH") else None
    kwargs: dict[str, Any] = {"content_type": "application/json"} if body is not None else {}
    response = getattr(client, method.lower())(path, json.dumps(body) if body is not None else None, **kwargs)
    assert response.status_code < 500, f"{method} {path}: {response.status_code}"
    if path.startswith(("/api/", "/ws/", "/metrics")) and response.status_code >= 400:
        assert response["Content-Type"].startswith("application/json"), f"{method} {path}: not JSON"
    return response.status_code


def expected_problems(route: Route, method: str, audience: Audience, users: dict[str, Any], path: str) -> list[str]:
    problems = []

    def check(label: str, client: Client, ok: Callable[[int], bool], want: str) -> None:
        status = call(client, method, path)
        if not ok(status):
            problems.append(f"{method} {path} as {label}: {status}, expected {want}")

    if audience == Audience.STAFF_PAGE:
        check("anonymous", Client(), lambda s: s == 302, "a redirect to log in")
        check("user", session(users["user"]), lambda s: s == 302, "a redirect to log in")
        check("staff", session(users["staff"]), lambda s: s == 200, "200")
        return problems
    if audience == Audience.USER_PAGE:
        check("anonymous", Client(), lambda s: s == 302, "a redirect to log in")
        check("user", session(users["user"]), lambda s: s == 200, "200")
        check("staff", session(users["staff"]), lambda s: s == 200, "200")
        return problems
    public = audience == Audience.PUBLIC
    check("anonymous", Client(), (lambda s: s not in DENIED) if public else (lambda s: s == 401),
          "no 401/403" if public else "401")
    for name, make in BROKEN_TOKENS.items():
        check(f"a token ({name})", bearer(make(users["user"])),
              (lambda s: s not in {403}) if public else (lambda s: s == 401), "401")
    user_allowed = audience in (Audience.PUBLIC, Audience.USER)
    check("user", bearer(str(AccessToken.for_user(users["user"]))),
          (lambda s: s not in DENIED) if user_allowed else (lambda s: s == 403), "allowed" if user_allowed else "403")
    check("staff", bearer(str(AccessToken.for_user(users["staff"]))), lambda s: s not in DENIED, "allowed")
    return problems


def object_problems(route: Route, method: str, audience: Audience, users: dict[str, Any]) -> list[str]:
    """A missing id and someone else's object: both 404 for whoever may call the route."""
    problems = []
    callers = {"staff": users["staff"]} if audience == Audience.STAFF else {"user": users["user"]}
    for label, caller in callers.items():
        client = bearer(str(AccessToken.for_user(caller)))
        missing = route.path(dict.fromkeys(route.kwargs, MISSING_ID))
        if (status := call(client, method, missing)) != 404:
            problems.append(f"{method} {missing} as {label}: {status}, expected 404")
    if audience != Audience.STAFF:
        for kwarg in route.kwargs:
            assert kwarg in OWNED_OBJECT_FACTORIES, f"{route.pattern}: add a factory for <{kwarg}> to this test"
        theirs = route.path({kwarg: OWNED_OBJECT_FACTORIES[kwarg](users["owner"]) for kwarg in route.kwargs})
        if (status := call(bearer(str(AccessToken.for_user(users["user"]))), method, theirs)) != 404:
            problems.append(f"{method} {theirs} (someone else's) as user: {status}, expected 404")
    return problems


def test_every_route_answers_each_caller_as_declared(owner, outsider, staff, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    users = {"owner": owner, "user": outsider, "staff": staff}
    problems: list[str] = []
    checked = 0
    for route in routes():
        rules = access_rules(route.callback) or {}
        for method, audience in sorted(rules.items()):
            if not _serves(route, method):
                continue
            path = route.path(dict.fromkeys(route.kwargs, MISSING_ID))
            problems += expected_problems(route, method, audience, users, path)
            if route.kwargs and audience != Audience.PUBLIC:
                problems += object_problems(route, method, audience, users)
            checked += 1
    assert checked >= 15  # the walk found the routes
    assert problems == []


def _serves(route: Route, method: str) -> bool:
    """Whether the view has a handler for `method` (a declaration may cover methods it lacks)."""
    view_class = getattr(route.callback, "view_class", None) or getattr(route.callback, "cls", None)
    if view_class is None:
        return True  # a function view declares exactly the methods it serves
    return hasattr(view_class, method.lower())
