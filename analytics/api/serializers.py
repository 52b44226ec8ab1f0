from __future__ import annotations

from typing import Any

from rest_framework import serializers


class StrictStringField(serializers.CharField):
    """A CharField that refuses numbers and booleans instead of turning them into strings."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CacheClearSerializer(serializers.Serializer):
    tags = serializers.ListField(
        child=StrictStringField(max_length=200), required=False, allow_empty=False, max_length=1000
    )


class TierSerializer(serializers.Serializer):
    hits = serializers.IntegerField()
    misses = serializers.IntegerField()
    hit_rate = serializers.FloatField()
    items = serializers.IntegerField(allow_null=True)
    bytes = serializers.IntegerField(allow_null=True)
