from __future__ import annotations

from rest_framework import serializers

from tecnocursos.core.api.inputs import InputSerializer


class CacheClearSerializer(InputSerializer):
    tags = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, allow_empty=False, max_length=1000
    )


class TierSerializer(serializers.Serializer):
    hits = serializers.IntegerField()
    misses = serializers.IntegerField()
    hit_rate = serializers.FloatField()
    items = serializers.IntegerField(allow_null=True)
    bytes = serializers.IntegerField(allow_null=True)


class L1TierSerializer(TierSerializer):
    evictions = serializers.IntegerField()
    promotions = serializers.IntegerField()


class L2TierSerializer(TierSerializer):
    complete = serializers.BooleanField(help_text="False when the size scan was cut short on a huge keyspace")


class CacheStatsSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["cluster", "process"],
                                    help_text="cluster: summed over every process through Redis")
    l1 = L1TierSerializer()
    l2 = L2TierSerializer()
    hits = serializers.IntegerField()
    misses = serializers.IntegerField()
    hit_rate = serializers.FloatField()
    sets = serializers.IntegerField()
    deletes = serializers.IntegerField()
    invalidations = serializers.IntegerField()
    # The metaclass takes declared fields out of the class, so this does not shadow `Serializer.errors`;
    # the stubs cannot see that.
    errors = serializers.IntegerField()  # type: ignore[assignment]
    processes = serializers.ListField(child=serializers.DictField())
    health = serializers.DictField()


class CacheClearResultSerializer(serializers.Serializer):
    cleared = serializers.ChoiceField(choices=["all", "tags"])
    tags = serializers.ListField(child=serializers.CharField())
    invalidated = serializers.IntegerField(allow_null=True)
