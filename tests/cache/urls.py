"""Views for the response-cache tests (used with @pytest.mark.urls)."""

from __future__ import annotations

from django.http import JsonResponse
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from tecnocursos.cache.middleware import cache_response

served = {"count": 0}


@cache_response(ttl_seconds=60, tags=["things"])
class ThingsApi(APIView):
    def get(self, request):
        served["count"] += 1
        return Response({"user": request.user.username, "count": served["count"], "q": request.GET.get("q")})

    def post(self, request):
        served["count"] += 1
        return Response({"count": served["count"]})


@cache_response(ttl_seconds=60, tags=lambda request, thing_id: [f"thing:{thing_id}"])
class ThingApi(APIView):
    def get(self, request, thing_id):
        served["count"] += 1
        return Response({"id": thing_id, "count": served["count"]})


class UncachedApi(APIView):
    def get(self, request):
        served["count"] += 1
        return Response({"count": served["count"]})


@cache_response(ttl_seconds=60)
def public(request):
    served["count"] += 1
    return JsonResponse({"count": served["count"]})


urlpatterns = [
    path("things/", ThingsApi.as_view()),
    path("things/<int:thing_id>/", ThingApi.as_view()),
    path("uncached/", UncachedApi.as_view()),
    path("public/", public),
]
