"""Bottleneck detection alone: each kind of finding from its facts, with evidence and advice;
nothing on a healthy service."""

from __future__ import annotations

import pytest

from monitoring.insights.detect import Facts, HostFacts, RepeatedQuery, RouteFacts, detect, slope_per_minute
from monitoring.insights.sql_shape import key, shape

HEALTHY_HOST = HostFacts(host="web", minutes=15, cpu_percent=30, cpu_count=4, load_1=1.0, iowait_percent=1,
                         memory_percent=50, swap_percent=0, swap_in_bytes_per_second=0, swap_out_bytes_per_second=0)


def kinds(facts: Facts) -> dict[str, object]:
    return {(f.kind, f.subject): f for f in detect(facts)}


def host(**values) -> HostFacts:
    return HostFacts(**{**HEALTHY_HOST.__dict__, **values})


def test_a_healthy_service_has_no_findings():
    routes = [RouteFacts("GET", "upload-list", 500, 80.0, 30.0, 3.0, 2.0)]
    facts = Facts(hosts=[HEALTHY_HOST], routes=routes, cache={"hits": 9000, "misses": 1000},
                  queue=[(0, 0), (60, 1), (120, 0)], channels={"srv": {"max_fill": 0.1}})
    assert detect(facts) == []


@pytest.mark.parametrize(("values", "kind", "evidence"), [
    ({"cpu_percent": 97}, "cpu_saturation", {"cpu_percent": 97}),
    ({"load_1": 12.0}, "cpu_saturation", {"load_per_core": 3.0}),
    ({"memory_percent": 95}, "memory_pressure", {"memory_percent": 95}),
    ({"swap_out_bytes_per_second": 5e6, "swap_percent": 30}, "swapping", {"swap_out_bytes_per_second": 5e6}),
    ({"iowait_percent": 35}, "disk_io_saturation", {"iowait_percent": 35}),
])
def test_host_bottlenecks(values, kind, evidence):
    found = kinds(Facts(hosts=[host(**values)]))
    finding = found[(kind, "web")]
    assert evidence.items() <= finding.evidence.items() and finding.recommendation


def test_a_slow_endpoint_says_whether_the_database_is_the_cause():
    routes = [RouteFacts("GET", "report", 100, 2500.0, 1200.0, 4.0, 1000.0),
              RouteFacts("POST", "upload-list", 100, 4000.0, 3000.0, 2.0, 10.0),
              RouteFacts("GET", "rare", 3, 9000.0, 9000.0, 1.0, 1.0)]  # too few requests to judge
    found = kinds(Facts(routes=routes))
    assert set(found) == {("slow_endpoint", "GET report"), ("slow_endpoint", "POST upload-list")}
    assert "database" in found[("slow_endpoint", "GET report")].recommendation
    assert found[("slow_endpoint", "POST upload-list")].severity == "critical"


def test_n_plus_one_comes_with_the_sql_shape():
    sql = 'SELECT "core_course"."id" FROM "core_course" WHERE "core_course"."id" = ?'
    repeated = [RepeatedQuery("GET", "course-list", key(sql), sql, requests=40, executions=2000),
                RepeatedQuery("GET", "tiny", "k", "SELECT 1", requests=2, executions=20)]
    routes = [RouteFacts("GET", "course-list", 40, 200.0, 150.0, 51.0, 90.0),
              RouteFacts("GET", "other", 40, 100.0, 50.0, 60.0, 20.0)]
    found = kinds(Facts(routes=routes, repeated=repeated))
    n1 = found[("n_plus_one", f"GET course-list {key(sql)}")]
    assert n1.evidence["sql"] == sql and n1.evidence["executions_per_request"] == 50.0
    assert "select_related" in n1.recommendation
    assert ("many_queries", "GET other") in found and ("many_queries", "GET course-list") not in found


def test_a_low_cache_hit_rate_needs_enough_lookups():
    assert kinds(Facts(cache={"hits": 10, "misses": 90})) == {}
    finding = kinds(Facts(cache={"hits": 300, "misses": 1700}))[("low_cache_hit_rate", "cache")]
    assert finding.evidence["hit_rate"] == 0.15


def test_a_growing_celery_backlog():
    growing = [(60.0 * i, 40.0 + 5 * i) for i in range(10)]
    finding = kinds(Facts(queue=growing))[("celery_queue_growing", "celery")]
    assert finding.evidence["growth_per_minute"] == pytest.approx(5.0)
    assert kinds(Facts(queue=[(60.0 * i, 200.0 - 5 * i) for i in range(10)])) == {}  # draining


def test_websocket_queues_near_capacity():
    found = kinds(Facts(channels={"h-1": {"max_fill": 1.0, "near_capacity": 3, "channels": 40, "capacity": 1000},
                                  "h-2": {"max_fill": 0.2}}))
    assert list(found) == [("websocket_queue_near_capacity", "h-1")]
    assert found[("websocket_queue_near_capacity", "h-1")].severity == "critical"


def test_findings_come_most_severe_first():
    facts = Facts(hosts=[host(cpu_percent=99, load_1=20, iowait_percent=40)])
    assert [f.severity for f in detect(facts)] == ["critical", "warning"]


def test_slope_of_a_series():
    assert slope_per_minute([(0, 0), (60, 2), (120, 4)]) == pytest.approx(2.0)
    assert slope_per_minute([(0, 1)]) is None


@pytest.mark.parametrize(("sql", "expected"), [
    ('SELECT "a" FROM "t" WHERE "id" = %s LIMIT 21', 'SELECT "a" FROM "t" WHERE "id" = ? LIMIT ?'),
    ("SELECT * FROM t WHERE id IN (%s, %s, %s)", "SELECT * FROM t WHERE id IN (?...)"),
    ("SELECT * FROM t WHERE id IN (%s, %s)", "SELECT * FROM t WHERE id IN (?...)"),
    ("SELECT * FROM t WHERE name = 'it''s'  AND  n > 3.5", "SELECT * FROM t WHERE name = ? AND n > ?"),
    ('SELECT "t1"."c2" FROM "t1"', 'SELECT "t1"."c2" FROM "t1"'),  # digits inside names stay
])
def test_sql_shapes_drop_values(sql, expected):
    assert shape(sql) == expected


def test_shapes_have_short_stable_keys():
    assert key("SELECT ?") == key("SELECT ?") != key("SELECT ? FROM t") and len(key("x")) == 16
