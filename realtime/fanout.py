"""Fan-out hot path for consumers (measured in bench/fanout_bench.py, see docs/fanout.md).

Channels' `AsyncConsumer.dispatch` runs `close_old_connections()` through
`sync_to_async` before every handler: one hop to the single sync thread and back per
message per socket. For a group event that only writes to the socket (`push`) that hop
is pure overhead, and with one room of N sockets it is N hops per message, all through
one thread: it was the largest item in a daphne profile of the fan-out. Handlers that
use the ORM go through `database_sync_to_async`, which closes old connections itself,
so skipping the hop for socket-only events loses nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from channels.consumer import get_handler_name


class FanoutDispatchMixin:
    """Serve socket-only group events without Channels' per-message DB-connection hop.

    Put it before the Channels consumer class in the bases. Event types listed in
    `socket_only_events` must not touch the database synchronously.
    """

    socket_only_events: ClassVar[frozenset[str]] = frozenset({"push"})

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") in self.socket_only_events:
            await getattr(self, get_handler_name(message))(message)
            return
        await super().dispatch(message)  # type: ignore[misc]
