"""JWT authentication for WebSocket connections.

The access token travels either as `?token=<jwt>` or as the subprotocols
`access_token, <jwt>` (which keeps it out of URLs and logs). The middleware sets
`scope["user"]` (AnonymousUser when the token is missing or bad), `scope["token_exp"]`
(a UNIX time) and `scope["subprotocol"]` (what to answer on accept). Closing a
socket whose token expires is the consumer's job (it knows when it is open), with
`close_at_token_expiry`, which every consumer shares.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import AccessToken

from tecnocursos.core.types import User

if TYPE_CHECKING:
    from channels.generic.websocket import AsyncWebsocketConsumer

SUBPROTOCOL = "access_token"
CLOSE_UNAUTHORIZED = 4401  # no, a bad or an expired token


def token_from_scope(scope: dict[str, Any]) -> tuple[str | None, str | None]:
    """Return (token, subprotocol to answer with)."""
    protocols = scope.get("subprotocols") or []
    if SUBPROTOCOL in protocols:
        index = protocols.index(SUBPROTOCOL)
        if index + 1 < len(protocols):
            return protocols[index + 1], SUBPROTOCOL
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    tokens = query.get("token")
    return (tokens[0] if tokens else None), None


@database_sync_to_async
def _user_for(user_id: Any) -> User | None:
    user = User.objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    return user if user is not None and user.is_active else None


async def authenticate(token: str | None) -> tuple[User | AnonymousUser, int | None]:
    if not token:
        return AnonymousUser(), None
    try:
        # simplejwt annotates its argument as a Token object, but it takes (and decodes) the encoded JWT.
        access = AccessToken(token)  # type: ignore[arg-type]
    except TokenError:
        return AnonymousUser(), None
    user = await _user_for(access.get(api_settings.USER_ID_CLAIM))
    if user is None:
        return AnonymousUser(), None
    return user, int(access["exp"])


@dataclass(frozen=True)
class SocketAuth:
    """What JWTAuthMiddleware put in a socket's scope, typed."""

    user: User | None  # None: anonymous (no token, a bad one, or an inactive user)
    token_exp: int | None
    subprotocol: str | None


def socket_auth(scope: Mapping[str, Any]) -> SocketAuth:
    user = scope.get("user")
    return SocketAuth(user=user if isinstance(user, User) else None, token_exp=scope.get("token_exp"),
                      subprotocol=scope.get("subprotocol"))


async def close_at_token_expiry(consumer: AsyncWebsocketConsumer, exp: int | None,
                                before: Callable[[], Awaitable[None]] | None = None) -> None:
    """Close the socket with 4401 when its token expires (`exp`), so that the client reconnects
    with a fresh one. Run it as a task from connect() and cancel it on disconnect; `before` runs
    first (e.g. leaving groups, so that nothing more is pushed to the closing socket)."""
    if exp is None:
        return
    await asyncio.sleep(max(0.0, exp - time.time()))
    if before is not None:
        await before()
    await consumer.close(code=CLOSE_UNAUTHORIZED)


class JWTAuthMiddleware:
    def __init__(self, inner: Any):
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        token, subprotocol = token_from_scope(scope)
        user, exp = await authenticate(token)
        scope = {**scope, "user": user, "token_exp": exp, "subprotocol": subprotocol}
        return await self.inner(scope, receive, send)
