"""Request metrics: latency, status, route, method, size, database work and the user.

ASGI and WSGI alike (sync and async chains). The route is the URL pattern's name
(namespaced, e.g. `admin:index`), or the pattern itself when it has none: a bounded set
of labels whatever paths clients send. Unresolved paths count as `<unmatched>` (static
files as `<static>`), and methods outside the standard ones as `OTHER`. Each request adds
to the process's aggregator; the recorder's thread flushes to Redis. Nothing here waits
on I/O, and nothing is written to the database per request.

Streaming responses are timed to their first byte's readiness (the response object),
and sized by Content-Length when they declare one.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

from monitoring import db_metrics
from monitoring.aggregator import label
from monitoring.recorder import recorder

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "<unmatched>"
STATIC = "<static>"


def route_of(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        static = getattr(settings, "STATIC_URL", None) or "/static/"
        return STATIC if request.path.startswith(static) else UNMATCHED
    return label(match.view_name if match.url_name else (match.route or UNMATCHED))


def user_id_of(request: HttpRequest) -> int | None:
    """The authenticated user's id, without loading a user nobody asked for."""
    user = request.__dict__.get("user")
    if user is None:
        return None
    if isinstance(user, SimpleLazyObject):
        user = user._wrapped
        if user is empty:
            return None  # nothing looked at the session user: don't query for it
    if not getattr(user, "is_authenticated", False):
        return None
    pk = getattr(user, "pk", None)
    return pk if isinstance(pk, int) else None


def size_of(response: HttpResponseBase) -> int:
    # CommonMiddleware (inside this one) has set Content-Length on every non-streaming
    # response: reading it avoids joining the body into one more copy.
    length = response.headers.get("Content-Length")
    if length is not None and length.isdigit():
        return int(length)
    if getattr(response, "streaming", False):
        return 0
    return len(getattr(response, "content", b""))


class RequestMetricsMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.recorder = recorder()
        self.record = self.recorder.aggregator.record_request  # the aggregator lives as long as the process
        self.min_repeats = int(getattr(settings, "MONITORING_NPLUSONE_MIN_REPEATS", 5))
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        if not self.recorder.collecting:
            return self.get_response(request)
        stats = db_metrics.QueryStats()
        token = db_metrics.current.set(stats)
        start = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            db_metrics.current.reset(token)
        self._record(request, response, time.perf_counter() - start, stats)
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        if not self.recorder.collecting:
            return await get_response(request)
        stats = db_metrics.QueryStats()
        token = db_metrics.current.set(stats)
        start = time.perf_counter()
        try:
            response = await get_response(request)
        finally:
            db_metrics.current.reset(token)
        self._record(request, response, time.perf_counter() - start, stats)
        return response

    def _record(self, request: HttpRequest, response: HttpResponseBase, seconds: float,
                stats: db_metrics.QueryStats) -> None:
        method = request.method
        method = method if method in METHODS else "OTHER"
        route = route_of(request)
        self.record(method, route, response.status_code, seconds, size_of(response), user_id_of(request),
                    stats.queries, stats.seconds)
        if stats.queries >= self.min_repeats and (repeated := stats.repeated(self.min_repeats)):
            self.recorder.aggregator.record_repeated_queries(method, route, repeated)
        self.recorder.ensure_flusher()
