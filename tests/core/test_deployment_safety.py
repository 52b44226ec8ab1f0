"""Production settings pass Django's deployment checks; responses carry the security headers;
no token or password reaches a log line (the access log of daphne included)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tecnocursos.lib.redact import RedactFilter, redact

ROOT = Path(__file__).resolve().parents[2]
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyX2lkIjoiMSJ9.c2lnbmF0dXJlc2lnbmF0dXJl"


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    env.update(DEBUG="false", SECRET_KEY="p" * 30 + "-Qz8!kX#v2@Lr7$Wn4^Ty1&Hs6*Jd3(Fm", SECURE_COOKIES="true",
               ALLOWED_HOSTS="ops.example.com", TECNOCURSOS_VAR_DIR=str(tmp_path))
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_responses_carry_the_security_headers(client):
    response = client.get("/api/schema/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.parametrize("line", [
    f"WSCONNECT /ws/connect?token={JWT}",
    f"GET /api/x?a=1&access_token={JWT}&b=2",
    "redis connection to redis://:s3cr3t-pass@cache.internal:6379/0 failed",
    f"postgres://app:pa55w0rd@db:5432/app and Bearer {JWT}",
    "POST /login password=hunter2&username=bob",
])
def test_secrets_are_redacted(line):
    cleaned = redact(line)
    for secret in (JWT, "s3cr3t-pass", "pa55w0rd", "hunter2"):
        assert secret not in cleaned
    assert "[redacted]" in cleaned


def test_the_log_filter_redacts_messages_and_arguments(caplog):
    logger = logging.getLogger("tests.redact")
    logger.addFilter(RedactFilter())
    try:
        with caplog.at_level(logging.INFO, logger="tests.redact"):
            logger.info("socket %s from %s", f"/ws/connect?token={JWT}", "127.0.0.1")
    finally:
        logger.filters.clear()
    assert JWT not in caplog.text and "token=[redacted]" in caplog.text


def test_daphnes_access_log_is_redacted():
    import io

    from daphne.access import AccessLogGenerator

    from tecnocursos import serve

    stream = io.StringIO()
    original = AccessLogGenerator.write_entry
    AccessLogGenerator.write_entry = serve._redacted_write_entry  # type: ignore[method-assign]
    try:
        AccessLogGenerator(stream)("websocket", "connecting", {"client": "127.0.0.1:1", "path": f"/ws?token={JWT}"})
    finally:
        AccessLogGenerator.write_entry = original  # type: ignore[method-assign]
    assert JWT not in stream.getvalue() and "token=[redacted]" in stream.getvalue()
