"""The project's URLs plus views that fail in ways only a bug would: for the JSON-errors tests."""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.urls import path

from tecnocursos.urls import urlpatterns as project_urlpatterns


def crash(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def suspicious(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("tampered")


urlpatterns = [
    path("api/test-crash/", crash),
    path("ws/test-crash", crash),
    path("api/test-suspicious/", suspicious),
    *project_urlpatterns,
]
