"""Bottlenecks end to end: the middleware counts statements a request repeated (N+1), they reach
Redis with the rest, detection stores findings (one open per subject, resolved when gone), and
the API and admin show them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import RequestFactory

from monitoring import channel_queues, redis_store
from monitoring.insights import services
from monitoring.insights.detect import Facts, HostFacts
from monitoring.insights.models import Finding
from monitoring.middleware import RequestMetricsMiddleware
from monitoring.recorder import recorder

pytestmark = pytest.mark.django_db


def n_plus_one_view(queries: int):
    def view(request):
        users = get_user_model().objects
        for i in range(queries):
            users.filter(id=i + 1).first()  # one statement shape, run once per "item"
        return HttpResponse("ok")

    return view


def serve(view, times: int = 1) -> None:
    middleware = RequestMetricsMiddleware(view)
    for _ in range(times):
        request = RequestFactory().get("/api/courses/")
        middleware(request)


def test_repeated_statements_are_counted_and_shaped(flush, settings):
    settings.MONITORING_NPLUSONE_MIN_REPEATS = 5
    serve(n_plus_one_view(8), times=3)
    serve(n_plus_one_view(3))  # below the minimum: not counted
    flush()
    counts, shapes = redis_store.repeated_queries(days=1)
    [(shape_key, sql)] = shapes.items()
    assert sql.startswith('SELECT "auth_user"."id"') and '"auth_user"."id" = ?' in sql and "LIMIT ?" in sql
    route = "<unmatched>"
    assert counts[f"GET|{route}|{shape_key}|r"] == 3 and counts[f"GET|{route}|{shape_key}|x"] == 24
    totals = redis_store.totals()  # the request counts as before
    assert int(totals[f"h|n|GET|{route}|200"]) == 4 and int(totals[f"h|q|GET|{route}"]) == 27


def test_detection_turns_repeats_into_an_n_plus_one_finding(flush, settings):
    settings.MONITORING_NPLUSONE_MIN_REPEATS = 5
    serve(n_plus_one_view(6), times=12)
    flush()
    [finding] = [f for f in services.findings_detect() if f.kind == "n_plus_one"]
    assert finding.subject.startswith("GET <unmatched> ") and finding.evidence["requests"] == 12
    assert 'FROM "auth_user"' in finding.evidence["sql"] and finding.evidence["executions_per_request"] == 6.0


def test_a_finding_stays_open_while_seen_and_is_resolved_when_gone(db):
    hot = Facts(hosts=[HostFacts(host="web", minutes=15, cpu_percent=99, cpu_count=2, load_1=9)])
    services.findings_detect(facts=hot)
    services.findings_detect(facts=hot)
    finding = Finding.objects.get()
    assert finding.occurrences == 2 and finding.is_open and finding.evidence["cpu_percent"] == 99
    services.findings_detect(facts=Facts())
    finding.refresh_from_db()
    assert not finding.is_open
    services.findings_detect(facts=hot)
    assert Finding.objects.filter(resolved_at__isnull=True).count() == 1 and Finding.objects.count() == 2


def test_the_channel_queue_summary_reaches_readers(monkeypatch):
    monkeypatch.setattr(channel_queues, "local_stats", lambda: {"channels": 3, "capacity": 10, "max_fill": 0.9,
                                                                "near_capacity": 1, "queued": 12})
    channel_queues.publish("srv-1")
    assert channel_queues.read() == {"srv-1": {"channels": 3, "capacity": 10, "max_fill": 0.9, "near_capacity": 1,
                                               "queued": 12}}


def test_a_process_without_channel_queues_publishes_nothing(monkeypatch):
    class Queue:
        def __init__(self, size: int) -> None:
            self.size, self.maxsize = size, 10

        def qsize(self) -> int:
            return self.size

    class LoopLayer:
        channels = {"a": Queue(9), "b": Queue(1)}

    class Layer:
        capacity = 10
        _layers = {"loop": LoopLayer()}

    from channels.layers import channel_layers

    monkeypatch.setattr(channel_layers, "backends", {})
    assert channel_queues.local_stats() is None
    monkeypatch.setattr(channel_layers, "backends", {"default": Layer()})
    assert channel_queues.local_stats() == {"channels": 2, "capacity": 10, "max_fill": 0.9, "near_capacity": 1,
                                            "queued": 10}


def test_the_recommendations_api_is_staff_only(anon_client, outsider_client, staff_client, db):
    for method, path in (("get", "/api/analytics/recommendations"), ("get", "/api/analytics/recommendations/history"),
                         ("post", "/api/analytics/recommendations/detect")):
        assert getattr(anon_client, method)(path).status_code == 401
        assert getattr(outsider_client, method)(path).status_code == 403
        assert getattr(staff_client, method)(path).status_code == 200


def test_the_api_lists_findings_with_evidence_and_recommendation(staff_client, db):
    services.findings_detect(facts=Facts(hosts=[HostFacts(host="web", minutes=15, memory_percent=96)]))
    [finding] = staff_client.get("/api/analytics/recommendations").json()
    assert finding["kind"] == "memory_pressure" and finding["evidence"]["memory_percent"] == 96
    assert finding["recommendation"] and finding["resolved_at"] is None
    assert staff_client.get("/api/analytics/recommendations?kind=swapping").json() == []
    assert staff_client.get("/api/analytics/recommendations?kind=bogus").status_code == 400
    assert staff_client.get("/api/analytics/recommendations?kind=").status_code == 400
    assert staff_client.get("/api/analytics/recommendations/history").json()["count"] == 1


def test_the_admin_shows_findings_and_runs_detection(client, db):
    operator = get_user_model().objects.create_superuser("op", "op@example.com", "pw-op-123456")
    client.force_login(operator)
    services.findings_detect(facts=Facts(hosts=[HostFacts(host="web", minutes=15, iowait_percent=50)]))
    page = client.get("/admin/monitoring/finding/?open=yes")
    assert page.status_code == 200 and b"Disk I/O saturated on web" in page.content
    response = client.post("/admin/monitoring/finding/detect/")
    assert response.status_code == 302
    finding = Finding.objects.get(kind="disk_io_saturation")
    assert finding.resolved_at is not None  # the real facts have no host "web"
    assert client.get(f"/admin/monitoring/finding/{finding.id}/change/").status_code == 200


def test_recorder_flush_publishes_this_processs_channel_queues(monkeypatch):
    published = []
    monkeypatch.setattr(channel_queues, "publish", published.append)
    recorder().flush()
    assert published and published[0] == __import__("monitoring.recorder", fromlist=["server_id"]).server_id()
