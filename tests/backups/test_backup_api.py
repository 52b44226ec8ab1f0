"""The backup API of the CONTRACT, plus run detail and verify: permissions, shapes, errors."""

from __future__ import annotations

import time

import pytest

from backups import services
from backups.models import BackupRun
from tests.backups.helpers import make_config

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("post", "/api/backup/manual/system"),
    ("get", "/api/backup/history"),
    ("get", "/api/backup/history/1"),
    ("post", "/api/backup/history/1/verify"),
    ("get", "/api/analytics/services/backup"),
]


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_anonymous_callers_get_401(anon_client, method, url):
    assert getattr(anon_client, method)(url).status_code == 401


@pytest.mark.parametrize(("method", "url"), ENDPOINTS)
def test_plain_users_get_403(owner_client, method, url):
    response = getattr(owner_client, method)(url)
    assert response.status_code == 403 and "detail" in response.json()


def test_a_manual_run_is_accepted_and_queued_on_commit(staff_client, staff, media_tree, sent_tasks,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post("/api/backup/manual/uploads", {"kind": "full"}, format="json")
    assert response.status_code == 202
    body = response.json()
    run = BackupRun.objects.get(id=body["backup_id"])
    assert body == {"backup_id": run.id, "task_id": str(run.task_id), "status": "queued", "config": "uploads",
                    "kind": "full"}
    assert run.requested_by == staff and run.trigger == "api"
    assert sent_tasks == [("backups.tasks.run_backup", [run.id, "full"])]


def test_an_unknown_config_is_404(staff_client):
    response = staff_client.post("/api/backup/manual/nope")
    assert response.status_code == 404 and "nope" in response.json()["detail"]


def test_a_second_run_of_a_busy_config_is_409(staff_client, media_tree):
    assert staff_client.post("/api/backup/manual/system").status_code == 202
    response = staff_client.post("/api/backup/manual/system")
    assert response.status_code == 409 and "already" in response.json()["detail"]


def test_an_invalid_kind_is_400(staff_client):
    response = staff_client.post("/api/backup/manual/system", {"kind": "weekly"}, format="json")
    assert response.status_code == 400 and "kind" in response.json()


@pytest.fixture
def runs(media_tree, backup_env):
    config = make_config(name="media")
    first = services.backup_run_now(config=config)
    second = services.backup_run_now(config=config)
    return [first, second]


def test_history_lists_runs_newest_first_with_the_contract_fields(staff_client, runs):
    response = staff_client.get("/api/backup/history")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 2
    first = page["results"][0]
    assert first["id"] == runs[1].id
    assert {"id", "config", "kind", "status", "started_at", "finished_at", "size", "checksum",
            "encrypted"} <= set(first)
    assert (first["config"], first["kind"], first["status"], first["encrypted"]) == (
        "media", "incremental", "completed", True)
    assert first["size"] == runs[1].bytes_out and first["checksum"] == runs[1].checksum


def test_history_filters_and_paginates(staff_client, runs):
    assert staff_client.get("/api/backup/history", {"kind": "full"}).json()["count"] == 1
    assert staff_client.get("/api/backup/history", {"config": "system"}).json()["count"] == 0
    assert staff_client.get("/api/backup/history", {"status": "completed", "page_size": 1}).json()["next"]
    assert staff_client.get("/api/backup/history", {"status": "weird"}).status_code == 400
    assert staff_client.get("/api/backup/history", {"page": 99}).status_code == 404


def test_history_costs_no_query_per_run(staff_client, runs, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        staff_client.get("/api/backup/history")


def test_run_detail_and_bad_ids(staff_client, runs):
    assert staff_client.get(f"/api/backup/history/{runs[0].id}").json()["parent_id"] is None
    assert staff_client.get("/api/backup/history/999999").status_code == 404
    assert staff_client.get("/api/backup/history/abc").status_code == 404


def test_verify_is_queued_for_completed_runs_only(staff_client, runs, media_tree, sent_tasks,
                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(f"/api/backup/history/{runs[0].id}/verify")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    assert [name for name, _ in sent_tasks] == ["backups.tasks.verify_backup"]
    queued = services.backup_request(config=make_config(name="other"))
    assert staff_client.post(f"/api/backup/history/{queued.id}/verify").status_code == 409
    assert staff_client.post("/api/backup/history/999999/verify").status_code == 404


def test_the_backup_service_summary(staff_client, runs):
    body = staff_client.get("/api/analytics/services/backup").json()
    assert body["last_backup"]["id"] == runs[1].id
    assert body["counts"]["completed"] == 2 and body["counts"]["total"] == 2
    assert body["total_size"] == sum(r.bytes_out for r in runs)
    by_name = {c["name"]: c for c in body["configs"]}
    assert {"system", "uploads", "media"} <= set(by_name)
    assert by_name["media"]["runs"] == 2 and by_name["media"]["last_run"]["id"] == runs[1].id
    assert by_name["system"]["schedule"].startswith("0 2 * * *")
    assert by_name["system"]["last_run"] is None


def test_an_api_run_completes_on_a_real_worker(celery_worker, staff, backup_env, media_tree):
    from tests.conftest import api_client_for

    response = api_client_for(staff).post("/api/backup/manual/uploads")
    assert response.status_code == 202
    run_id = response.json()["backup_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run = BackupRun.objects.get(id=run_id)
        if run.status in ("completed", "failed"):
            break
        time.sleep(0.1)
    assert run.status == "completed", run.error
    assert run.file_count == 6


def test_nul_bytes_in_names_are_not_found_not_server_errors(staff_client):
    assert staff_client.post("/api/backup/manual/sys%00tem").status_code == 404
    response = staff_client.get("/api/backup/history", {"config": "a\x00b"})
    assert response.status_code == 200 and response.json()["count"] == 0
