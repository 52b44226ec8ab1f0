"""Content negotiation for endpoints whose answer format is not the client's choice."""

from __future__ import annotations

from collections.abc import Iterable

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class FirstRendererNegotiation(BaseContentNegotiation):
    """Always the view's first renderer, whatever `Accept` or `?format=` say.

    For a download whose `format` is the endpoint's own parameter (the metrics export) and
    for the Prometheus exposition (text/plain or OpenMetrics, whatever the scraper asks).
    """

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
                        ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type
