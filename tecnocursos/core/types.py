"""Types shared by every app.

The project uses Django's own user model, so `User` is that class: services and selectors
take a `User` (with `is_staff`, `username`), not `AbstractBaseUser`. DRF views behind an
authentication check get an `AuthenticatedRequest`, whose `user` is never anonymous
(healthchecks' `AuthenticatedHttpRequest` is the model).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.http import HttpRequest
from rest_framework.request import Request

__all__ = ["AuthenticatedHttpRequest", "AuthenticatedRequest", "User"]

if TYPE_CHECKING:

    class AuthenticatedRequest(Request):
        user: User

    class AuthenticatedHttpRequest(HttpRequest):
        user: User

else:
    AuthenticatedRequest = Request
    AuthenticatedHttpRequest = HttpRequest
