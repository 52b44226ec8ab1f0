from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import serializers as jwt_serializers

from tecnocursos.core.models import Course, Upload


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class CourseSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True)

    class Meta:
        model = Course
        fields = ["id", "title", "description", "is_published", "owner", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]


class UploadInputSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    course = serializers.IntegerField(required=False, allow_null=True, min_value=1)


class UploadSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer(read_only=True)
    processing_ms = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Upload
        fields = [
            "id", "status", "task_id", "original_name", "declared_type", "detected_type", "size",
            "checksum", "course", "owner", "failure_reason", "attempts", "created_at", "started_at",
            "finished_at", "processing_ms",
        ]
        read_only_fields = fields


class UploadDetailSerializer(UploadSerializer):
    class Meta(UploadSerializer.Meta):
        fields = [*UploadSerializer.Meta.fields, "extracted_text"]
        read_only_fields = fields


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """simplejwt's, but a token whose user was deleted is a 401, not a 500."""

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            return super().validate(attrs)
        except get_user_model().DoesNotExist as exc:
            raise AuthenticationFailed("No active account found for the given token.", "no_active_account") from exc
