from __future__ import annotations

from rest_framework import serializers

from monitoring.insights.models import Finding


class FindingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Finding.Kind.choices)
    subject = serializers.CharField(help_text="A host, an endpoint (METHOD route), the cache, celery, a server")
    severity = serializers.ChoiceField(choices=Finding.Severity.choices)
    title = serializers.CharField()
    evidence = serializers.DictField(help_text="The numbers behind it (an N+1 finding carries the SQL shape in `sql`)")
    recommendation = serializers.CharField()
    first_seen_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    occurrences = serializers.IntegerField()


class FindingQuerySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Finding.Kind.choices, required=False)
