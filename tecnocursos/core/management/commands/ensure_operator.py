"""Create the first operator (a superuser) if the database has none.

Credentials come from OPERATOR_USERNAME / OPERATOR_PASSWORD / OPERATOR_EMAIL, or
a random password is generated and printed once.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create a first operator account if no superuser exists."

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            self.stdout.write("An operator account exists already; log in with it.")
            return
        username = os.environ.get("OPERATOR_USERNAME", "admin")
        password = os.environ.get("OPERATOR_PASSWORD") or secrets.token_urlsafe(12)
        email = os.environ.get("OPERATOR_EMAIL", f"{username}@localhost")
        users.create_superuser(username=username, email=email, password=password)
        shown = password if "OPERATOR_PASSWORD" not in os.environ else "(from OPERATOR_PASSWORD)"
        self.stdout.write(self.style.SUCCESS(f"Created operator  username: {username}  password: {shown}"))
        self.stdout.write("Keep this password: it is shown only once (change it in the admin).")
