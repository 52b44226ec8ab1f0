"""Server-rendered pages for operators (session auth, staff only)."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from rest_framework_simplejwt.tokens import AccessToken

from tecnocursos.core.api.access import Audience, access
from tecnocursos.core.models import Course, Upload
from tecnocursos.core.types import AuthenticatedHttpRequest, User


@access(get=Audience.STAFF_PAGE)
@require_GET
@staff_member_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    uploads_by_status = dict(Upload.objects.values_list("status").annotate(n=Count("id")).order_by())
    context = {
        "users": User.objects.count(),
        "courses": Course.objects.count(),
        "uploads_by_status": uploads_by_status,
        "recent_uploads": Upload.objects.select_related("owner").defer("extracted_text")[:10],
        # The page's own socket authenticates like any client, with a short-lived access token.
        "ws_token": str(AccessToken.for_user(request.user)),
    }
    return render(request, "analytics/dashboard.html", context)
