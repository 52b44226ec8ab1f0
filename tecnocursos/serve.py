"""`python -m tecnocursos.serve <daphne arguments>`: daphne, with secrets kept out of its access log
and the WebSocket limits daphne must enforce itself (tecnocursos/lib/ws_transport.py: slow readers dropped,
oversize frames answered with an `error` event and 1009, close reasons passed on).

Daphne writes the request line of every HTTP request and WebSocket handshake to its access log,
query string included: a socket opened with `?token=<jwt>` would put a live credential in the
log. This entry point redacts such values (tecnocursos/lib/redact.py) and then runs daphne's
own command line unchanged; `runstack` starts its web processes through it.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from daphne.access import AccessLogGenerator
from daphne.cli import CommandLineInterface

from tecnocursos.lib import ws_transport
from tecnocursos.lib.redact import redact

_write_entry = AccessLogGenerator.write_entry


def _redacted_write_entry(self: AccessLogGenerator, host: Any, date: Any, request: str,
                          *args: Any, **kwargs: Any) -> None:
    _write_entry(self, host, date, redact(request), *args, **kwargs)


# Daphne drops a WebSocket whose handshake the application has not answered within 5 s: in a
# storm of thousands of connects (every client reconnecting after a restart) that drops most of
# them. 30 s still bounds a handshake that never completes. An explicit option wins.
HANDSHAKE_TIMEOUT = os.environ.get("WEBSOCKET_CONNECT_TIMEOUT", "30")


def main() -> None:
    AccessLogGenerator.write_entry = _redacted_write_entry
    ws_transport.install()
    if not any(arg.startswith("--websocket_connect_timeout") for arg in sys.argv[1:]):
        sys.argv[1:1] = ["--websocket_connect_timeout", HANDSHAKE_TIMEOUT]
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
