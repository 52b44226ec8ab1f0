"""`python -m tecnocursos.serve <daphne arguments>`: daphne, with secrets kept out of its access log
and the WebSocket limits daphne must enforce itself (tecnocursos/lib/ws_transport.py: slow readers dropped,
oversize frames answered with an `error` event and 1009, close reasons passed on).

Daphne writes the request line of every HTTP request and WebSocket handshake to its access log,
query string included: a socket opened with `?token=<jwt>` would put a live credential in the
log. This entry point redacts such values (tecnocursos/lib/redact.py) and then runs daphne's
own command line unchanged; `runstack` starts its web processes through it.
"""

from __future__ import annotations

from typing import Any

from daphne.access import AccessLogGenerator
from daphne.cli import CommandLineInterface

from tecnocursos.lib import ws_transport
from tecnocursos.lib.redact import redact

_write_entry = AccessLogGenerator.write_entry


def _redacted_write_entry(self: AccessLogGenerator, host: Any, date: Any, request: str,
                          *args: Any, **kwargs: Any) -> None:
    _write_entry(self, host, date, redact(request), *args, **kwargs)


def main() -> None:
    AccessLogGenerator.write_entry = _redacted_write_entry
    ws_transport.install()
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
