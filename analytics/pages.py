"""Server-rendered pages (session auth): the landing page, sign-in, the operations dashboard
and the chat. Pages render a shell; their data comes from the API and the sockets, which
the page calls with a short-lived access token it embeds (docs/pages.md)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from types import SimpleNamespace
from typing import Any, cast

from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.views import LoginView, LogoutView, redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from rest_framework_simplejwt.tokens import AccessToken

from analytics import summary
from tecnocursos.core.api.access import Audience, access
from tecnocursos.core.api.throttles import LoginFailureThrottle
from tecnocursos.core.types import AuthenticatedHttpRequest

Page = Callable[..., HttpResponse]


def _page_guard(allowed: Callable[[Any], bool]) -> Callable[[Page], Page]:
    """Others are sent to the sign-in page (with `next`), never shown a 403 they can't act on."""

    def decorate(view: Page) -> Page:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not allowed(request.user):
                return redirect_to_login(request.get_full_path(), reverse("login"))
            return view(request, *args, **kwargs)

        return guarded

    return decorate


staff_page = _page_guard(lambda user: user.is_active and user.is_staff)
user_page = _page_guard(lambda user: user.is_authenticated)


def _socket_token(request: AuthenticatedHttpRequest) -> str:
    # The page's sockets and API calls authenticate like any client, with a short-lived access token.
    return str(AccessToken.for_user(request.user))


@access(get=Audience.PUBLIC)
@require_GET
def landing(request: HttpRequest) -> HttpResponse:
    return render(request, "analytics/landing.html")


@access(get=Audience.STAFF_PAGE)
@require_GET
@staff_page
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    context = {"ws_token": _socket_token(request), "numbers": summary.key_numbers(),
               "recent_uploads": summary.recent_uploads(limit=8), "recent_backups": summary.recent_backups(limit=6),
               # The charts' first paint (the page's 1 h range): the JS reads the export API only on a range change.
               "initial_series": summary.recent_series(minutes=60)}
    return render(request, "analytics/dashboard.html", context)


@access(get=Audience.USER_PAGE)
@require_GET
@user_page
def chat(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "analytics/chat.html", {"ws_token": _socket_token(request)})


@access(get=Audience.USER_PAGE)
@require_GET
@user_page
def token(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A fresh access token for a signed-in page whose embedded one expired (its sockets close with 4401)."""
    response = JsonResponse({"access": _socket_token(request)})
    response["Cache-Control"] = "no-store"
    return response


class ThrottledLoginView(LoginView):
    """Django's sign-in form, with the API's failed-login throttle (per username and address)."""

    template_name = "analytics/login.html"
    # Not redirect_authenticated_user: a signed-in user sent here by a page they may not open would loop.
    next_page = "landing"

    def _throttle_request(self) -> Any:
        # The throttle reads DRF's `request.data`; the form posts the same `username` field.
        return SimpleNamespace(data=self.request.POST, META=self.request.META, headers=self.request.headers)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle = LoginFailureThrottle()
        if not throttle.allow_request(cast(Any, self._throttle_request()), self):
            # Not validated: validating would try the password.
            context = self.get_context_data(form=AuthenticationForm(request), throttled=True)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        LoginFailureThrottle().record_failure(cast(Any, self._throttle_request()))
        return super().form_invalid(form)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        LoginFailureThrottle().record_success(cast(Any, self._throttle_request()))
        return super().form_valid(form)


login = access(get=Audience.PUBLIC, post=Audience.PUBLIC)(ThrottledLoginView.as_view())
logout = access(post=Audience.PUBLIC)(LogoutView.as_view(next_page="landing"))
