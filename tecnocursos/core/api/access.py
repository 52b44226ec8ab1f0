"""Who may call a route, declared next to the view that serves it.

    @access(Audience.STAFF)
    class CacheStatsApi(APIView): ...

    @access(get=Audience.USER, post=Audience.STAFF)
    class NotificationListCreateApi(APIView): ...

The declaration is the expectation, not the mechanism: permission classes still
enforce access. Two things read it:
- the OpenAPI schema (`tecnocursos.core.api.schema.AutoSchema`): `x-access`, the
  security requirement and the 401/403 responses of each operation;
- the auth matrix test (tests/contract/test_auth_matrix.py), which walks the URL
  conf, calls every route as anonymous, user and staff (and with broken tokens) and
  compares the outcome with the declaration. A route without one fails that test.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, Protocol, TypeVar, cast

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

V = TypeVar("V", bound=Callable[..., Any])


class Audience(StrEnum):
    PUBLIC = "public"  # no credentials needed
    USER = "user"  # any signed-in user; anonymous -> 401
    STAFF = "staff"  # user.is_staff; anonymous -> 401, other users -> 403
    STAFF_PAGE = "staff_page"  # an HTML page for staff sessions; others are redirected to log in
    USER_PAGE = "user_page"  # an HTML page for any signed-in session; anonymous is redirected to log in
    STAFF_OR_TOKEN = "staff_or_token"  # staff, or a bearer token from settings (scrapers)


class _Declared(Protocol):
    """A view once `access` has declared it: the attribute `access_rules` reads."""

    access_rules: dict[str, Audience]


def access(default: Audience | None = None, **methods: Audience) -> Callable[[V], V]:
    """Declare the audience of every method (`default`) or of each (`get=`, `post=`)."""
    rules: dict[str, Audience] = {}
    if default is not None:
        rules.update(dict.fromkeys(HTTP_METHODS, default))
    for method, audience in methods.items():
        if method.upper() not in HTTP_METHODS:
            raise ValueError(f"unknown HTTP method {method!r}")
        rules[method.upper()] = Audience(audience)
    if not rules:
        raise ValueError("access() needs an audience")

    def declare(view: V) -> V:
        cast(_Declared, view).access_rules = rules
        return view

    return declare


def access_rules(view: Any) -> dict[str, Audience] | None:
    """The declaration of a view class, a view function or a URL callback (as_view())."""
    for candidate in (view, getattr(view, "view_class", None), getattr(view, "cls", None)):
        rules = getattr(candidate, "access_rules", None)
        if rules is not None:
            return dict(rules)
    return None


def audience_for(view: Any, method: str) -> Audience | None:
    rules = access_rules(view)
    return None if rules is None else rules.get(method.upper())
