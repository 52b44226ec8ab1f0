from __future__ import annotations

import pytest
from django.test import Client

from backups.models import BackupConfig, BackupRun
from tecnocursos.core.models import Upload
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_landing_page_links_every_entry_point(client):
    response = client.get("/")
    assert response.status_code == 200
    page = response.content.decode()
    for link in ('href="/dashboard/"', 'href="/chat/"', 'href="/api/docs/"', 'href="/admin/"'):
        assert link in page
    assert 'href="/accounts/login/"' in page  # anonymous visitors are offered to sign in


def test_the_landing_page_answers_get_only(client):
    assert client.post("/").status_code == 405


def test_signing_in_leads_back_to_the_page_asked_for(client, staff):
    response = client.post("/accounts/login/", {"username": "staff", "password": PASSWORD, "next": "/dashboard/"})
    assert response.status_code == 302 and response["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code == 200


def test_a_wrong_password_shows_the_form_again(client, staff):
    response = client.post("/accounts/login/", {"username": "staff", "password": "nope"})
    assert response.status_code == 200
    assert "errors" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_failed_sign_ins_are_throttled_like_the_api(client, staff, settings, default_cache):
    settings.LOGIN_FAILURES_PER_USERNAME = 2
    for _ in range(2):
        client.post("/accounts/login/", {"username": "staff", "password": "nope"})
    response = client.post("/accounts/login/", {"username": "staff", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session  # even the right password waits


def test_the_sign_in_form_needs_the_csrf_token(staff):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/accounts/login/", {"username": "staff", "password": PASSWORD}).status_code == 403


def test_sign_out_is_a_post(client, staff):
    client.force_login(staff)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/dashboard/").status_code == 302


def test_chat_wants_a_signed_in_user(client, outsider):
    assert client.get("/chat/")["Location"] == "/accounts/login/?next=/chat/"
    client.force_login(outsider)
    assert client.get("/chat/").status_code == 200


def test_the_admin_index_shows_the_key_numbers(client, staff, owner):
    Upload.objects.create(owner=owner, original_name="a.txt", status="done", file="uploads/a")
    config = BackupConfig.objects.create(name="nightly-test")
    BackupRun.objects.create(config=config, kind="full", status="completed", bytes_out=10)
    client.force_login(staff)
    page = client.get("/admin/").content.decode()
    assert 'id="key-numbers"' in page and 'href="/dashboard/"' in page
    assert "nightly-test" in page and "1 done" in page


def test_a_signed_in_page_gets_a_fresh_access_token_of_its_own_user(client, outsider):
    from rest_framework_simplejwt.tokens import AccessToken

    assert client.get("/accounts/token/")["Location"].startswith("/accounts/login/")
    client.force_login(outsider)
    response = client.get("/accounts/token/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert str(AccessToken(response.json()["access"])["user_id"]) == str(outsider.id)


def test_the_dashboard_embeds_the_last_hour_as_the_export_gives_it_for_its_first_paint(client, staff):
    from datetime import UTC, datetime, timedelta

    from monitoring.models import SystemSnapshot
    from tests.analytics.seed import request_rollup

    now = datetime.now(tz=UTC)
    SystemSnapshot.objects.create(timestamp=now - timedelta(hours=2), host="h", cpu_percent=99.0)
    sample = SystemSnapshot.objects.create(timestamp=now - timedelta(minutes=1), host="h", cpu_percent=12.5)
    minute = (now - timedelta(minutes=5)).replace(second=0, microsecond=0)
    request_rollup(minute, latencies=[0.02] * 30)
    request_rollup(minute - timedelta(hours=2), latencies=[0.02] * 30)
    client.force_login(staff)
    series = client.get("/dashboard/").context["initial_series"]
    # Samples and request minutes of the hour, by time: the JS draws them without reading the export API.
    assert series["timestamps"] == [minute.timestamp(), sample.timestamp.timestamp()]
    assert series["values"]["cpu.percent"] == [None, 12.5]
    assert series["values"]["requests.per_s"] == [0.5, None]
    assert series["values"]["requests.errors_per_s"] == [0.0, None]
    assert set(series["values"]) == {"cpu.percent", "requests.per_s", "requests.errors_per_s", "latency.p50_ms",
                                     "latency.p95_ms", "latency.p99_ms"}


def test_a_signed_in_user_sent_to_sign_in_is_told_why_instead_of_looping(client, outsider):
    client.force_login(outsider)
    response = client.get("/dashboard/", follow=True)
    assert response.redirect_chain == [("/accounts/login/?next=/dashboard/", 302)]
    assert "Your account cannot open that page" in response.content.decode()
