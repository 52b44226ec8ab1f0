"""Bottleneck detection's writes: run it, keep one open finding per (kind, subject), resolve
those no longer seen. Two runs at once are kept apart by a Redis lock (and the unique
constraint on open findings)."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from monitoring import redis_store
from monitoring.insights import detect
from monitoring.insights.facts import facts_read
from monitoring.insights.models import Finding

logger = logging.getLogger(__name__)

LOCK_SECONDS = 120


def findings_detect(*, now: datetime | None = None, facts: detect.Facts | None = None) -> list[Finding]:
    """Detect now and store the result; the open findings, the most severe first."""
    now = now or timezone.now()
    try:
        token = redis_store.lock("insights", seconds=LOCK_SECONDS)
    except Exception:
        token = ""  # Redis down: the database's unique constraint still prevents doubles
    if token is None:
        return list(Finding.objects.filter(resolved_at__isnull=True))  # another run is at it
    try:
        found = detect.detect(facts if facts is not None else facts_read(now=now))
        _store(found, now)
    finally:
        if token:
            redis_store.unlock("insights", token)
    return list(Finding.objects.filter(resolved_at__isnull=True))


def _store(found: list[detect.Finding], now: datetime) -> None:
    try:
        with transaction.atomic():
            rows = Finding.objects.select_for_update().filter(resolved_at__isnull=True)
            open_ = {(f.kind, f.subject): f for f in rows}
            seen = set()
            for item in found:
                seen.add((item.kind, item.subject))
                _upsert(open_.get((item.kind, item.subject)), item, now)
            gone = [finding.id for key, finding in open_.items() if key not in seen]
            Finding.objects.filter(id__in=gone).update(resolved_at=now)
    except IntegrityError:
        logger.info("insights: a concurrent run stored the same findings")


def _upsert(existing: Finding | None, item: detect.Finding, now: datetime) -> None:
    fields = {"severity": item.severity, "title": item.title[:300], "evidence": item.evidence,
              "recommendation": item.recommendation, "last_seen_at": now}
    if existing is None:
        Finding.objects.create(kind=item.kind, subject=item.subject[:300], first_seen_at=now, **fields)
    else:
        Finding.objects.filter(id=existing.id).update(occurrences=F("occurrences") + 1, **fields)


def finding_resolve(*, finding: Finding) -> None:
    """Admin: mark a finding handled (detection reopens it if it is still there)."""
    Finding.objects.filter(id=finding.id, resolved_at__isnull=True).update(resolved_at=timezone.now())
