"""An endpoint someone added without describing it: the schema check must refuse it."""

from __future__ import annotations

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tecnocursos.core.api.access import Audience, access


@access(Audience.USER)
class Undescribed(APIView):
    def get(self, request: Request) -> Response:
        return Response({"secret": 1})


urlpatterns = [path("api/undescribed/", Undescribed.as_view())]
