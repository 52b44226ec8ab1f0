"""Database queries per request: counted and timed, never stored one by one.

Every new database connection gets a permanent execute wrapper. It adds to the
`QueryStats` of the current request, found through a context variable that the request
middleware sets; asgiref copies the context into the threads that run sync code, so
queries made by async views through `sync_to_async` are counted too. Outside a request
(Celery, commands) there is nothing to add to and the wrapper only calls through.

Each statement's text is counted too (a dict increment per query; Django's SQL carries
placeholders, so one text is one shape up to literal values): the middleware reports the
statements a request repeated, which bottleneck detection shows as N+1 endpoints.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

# Distinct statements counted per request; a request with more keeps counting only those seen.
MAX_STATEMENTS = 500


@dataclass(slots=True)
class QueryStats:
    queries: int = 0
    seconds: float = 0.0
    statements: dict[str, int] = field(default_factory=dict)  # SQL text -> executions in this request

    def repeated(self, minimum: int) -> dict[str, int]:
        """The statements executed at least `minimum` times."""
        return {sql: count for sql, count in self.statements.items() if count >= minimum}


current: ContextVar[QueryStats | None] = ContextVar("monitoring_query_stats", default=None)


def _count_queries(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    stats = current.get()
    if stats is None:
        return execute(sql, params, many, context)
    start = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        stats.queries += 1
        stats.seconds += time.perf_counter() - start
        statements = stats.statements
        if sql in statements:
            statements[sql] += 1
        elif len(statements) < MAX_STATEMENTS and isinstance(sql, str):
            statements[sql] = 1


def instrument(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """`connection_created` receiver: wrap the new connection's queries once."""
    if _count_queries not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _count_queries)
