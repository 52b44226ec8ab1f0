from __future__ import annotations

import pytest

STATS = "/api/analytics/services/cache"
CLEAR = "/api/analytics/cache/clear"


@pytest.mark.parametrize("path,method", [(STATS, "get"), (CLEAR, "post")])
def test_anonymous_callers_get_401(anon_client, path, method):
    assert getattr(anon_client, method)(path).status_code == 401


@pytest.mark.parametrize("path,method", [(STATS, "get"), (CLEAR, "post")])
def test_non_staff_get_403(owner_client, path, method, default_cache):
    default_cache.set("k", "v")
    response = getattr(owner_client, method)(path)
    assert response.status_code == 403
    assert default_cache.get("k") == "v"


def test_stats_report_both_tiers(staff_client, default_cache):
    default_cache.set("a", {"x": 1})
    default_cache.get("a")
    default_cache.get("absent")
    body = staff_client.get(STATS).json()
    for tier in ("l1", "l2"):
        assert {"hits", "misses", "hit_rate", "items", "bytes"} <= set(body[tier])
    assert body["l1"]["hits"] >= 1
    assert body["l2"]["misses"] >= 1
    assert body["l1"]["items"] >= 1 and body["l2"]["items"] >= 1
    assert body["health"]["status"] == "ok"
    assert body["processes"]


def test_clear_without_a_body_clears_everything(staff_client, default_cache):
    default_cache.set("a", 1)
    response = staff_client.post(CLEAR)
    assert response.status_code == 200 and response.json()["cleared"] == "all"
    assert default_cache.get("a") is None


def test_clear_by_tags(staff_client, default_cache):
    default_cache.set("a", 1, tags=["t"])
    default_cache.set("b", 2, tags=["u"])
    response = staff_client.post(CLEAR, {"tags": ["t"]}, format="json")
    assert response.status_code == 200
    assert response.json() == {"cleared": "tags", "tags": ["t"], "invalidated": 1}
    assert default_cache.get("a") is None and default_cache.get("b") == 2


@pytest.mark.parametrize("body", [{"tags": "t"}, {"tags": [1, 2]}, {"tags": [True]}, {"tags": []},
                                  {"tags": [""]}, {"tags": [None]}, ["t"]])
def test_bad_tags_are_400(staff_client, default_cache, body):
    default_cache.set("a", 1, tags=["t"])
    response = staff_client.post(CLEAR, body, format="json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert default_cache.get("a") == 1


def test_wrong_method_is_405(staff_client):
    assert staff_client.post(STATS).status_code == 405
    assert staff_client.get(CLEAR).status_code == 405


def test_cache_stats_match_their_documented_shape(staff_client):
    from tecnocursos.cache.api.serializers import CacheStatsSerializer

    body = staff_client.get("/api/analytics/services/cache").json()
    serializer = CacheStatsSerializer(data=body)
    assert serializer.is_valid(), serializer.errors
