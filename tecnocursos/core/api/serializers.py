from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.utils import html
from rest_framework_simplejwt import serializers as jwt_serializers

from tecnocursos.core.api.inputs import InputSerializer, ModelInputSerializer
from tecnocursos.core.models import Course, Upload


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class CourseSerializer(ModelInputSerializer):
    owner = UserRefSerializer(read_only=True)

    class Meta:
        model = Course
        fields = ["id", "title", "description", "is_published", "owner", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]


class FormIntegerField(serializers.IntegerField):
    """In a form an empty value is an error, as in JSON, not an absent field (DRF's reading)."""

    def get_value(self, dictionary: Any) -> Any:
        if html.is_html_input(dictionary) and dictionary.get(self.field_name) == "":
            return ""
        return super().get_value(dictionary)


class UploadInputSerializer(InputSerializer):
    file = serializers.FileField(allow_empty_file=False, help_text="The file (not empty).")
    course = FormIntegerField(required=False, min_value=1, help_text="A course of the caller's to attach to.")


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


class AccessTokenSerializer(serializers.Serializer):
    access = serializers.CharField()


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
