"""Reads of bottleneck findings."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from monitoring.insights.models import Finding


def findings_open(*, kind: str | None = None) -> QuerySet[Finding]:
    """What detection sees now, the most severe first."""
    rank = Case(When(severity="critical", then=Value(0)), When(severity="warning", then=Value(1)),
                default=Value(2), output_field=IntegerField())
    findings = Finding.objects.filter(resolved_at__isnull=True)
    if kind:
        findings = findings.filter(kind=kind)
    return findings.annotate(rank=rank).order_by("rank", "kind", "subject")


def findings_all(*, kind: str | None = None) -> QuerySet[Finding]:
    findings = Finding.objects.all()
    return findings.filter(kind=kind) if kind else findings
