"""What analytics keeps itself: logins (one row per sign-in, never per request).

Activity per request is monitoring's: it counts requests per user per minute in Redis and
rolls them up into one `ActiveUserDay` row per user and day.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Login(models.Model):
    class Via(models.TextChoices):
        SESSION = "session"  # the admin, the dashboard
        TOKEN = "token"  # POST /api/auth/token/

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    via = models.CharField(max_length=10, choices=Via.choices)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["at"], name="analytics_login_at")]

    def __str__(self) -> str:
        return f"{self.user_id} via {self.via} at {self.at:%Y-%m-%d %H:%M}"
