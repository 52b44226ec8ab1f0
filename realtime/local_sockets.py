"""This process's sockets by user id, for one active-user check per heartbeat interval.

A deactivated or deleted user's sockets close at once through the signal in realtime/signals.py;
what the signal cannot see (a queryset `update`) is caught here. One query every
REALTIME_PRESENCE_HEARTBEAT seconds covers every user with a socket in this process, where a
check per socket cost ~50 queries/s at 1,000 sockets.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from channels.db import database_sync_to_async
from django.conf import settings

from realtime import selectors

logger = logging.getLogger(__name__)
REVOKE = {"type": "revoke"}  # what services.user_sockets_close sends to a user's group


class Revocable(Protocol):
    async def revoke(self, message: dict[str, Any]) -> None: ...


class LocalSockets:
    def __init__(self) -> None:
        self.by_user: dict[int, set[Revocable]] = {}
        self.sweeper: asyncio.Task[None] | None = None

    def add(self, user_id: int, socket: Revocable) -> None:
        self.by_user.setdefault(user_id, set()).add(socket)
        sweeper = self.sweeper
        # A new one when the last stopped (no sockets left) or ran on an event loop that is gone
        # (daphne has one loop per process; tests one per test).
        if sweeper is None or sweeper.done() or sweeper.get_loop() is not asyncio.get_running_loop():
            self.sweeper = asyncio.create_task(self._sweep())

    def discard(self, user_id: int, socket: Revocable) -> None:
        sockets = self.by_user.get(user_id)
        if sockets is not None:
            sockets.discard(socket)
            if not sockets:
                del self.by_user[user_id]

    async def _sweep(self) -> None:
        while self.by_user:
            await asyncio.sleep(float(settings.REALTIME_PRESENCE_HEARTBEAT))
            await self.check()

    async def check(self) -> None:
        """Revoke the sockets of users no longer active, as the signal would have."""
        user_ids = list(self.by_user)
        if not user_ids:
            return
        try:
            active = await database_sync_to_async(selectors.users_active)(user_ids=user_ids)
        except Exception:  # a database blip must not stop the sweep: the next interval asks again
            logger.warning("active-user check failed", exc_info=True)
            return
        for user_id in set(user_ids) - active:
            for socket in list(self.by_user.get(user_id, ())):
                try:
                    await socket.revoke(REVOKE)
                except Exception:  # one socket's failure must not spare the others
                    logger.exception("closing a socket of inactive user %s failed", user_id)


registry = LocalSockets()
