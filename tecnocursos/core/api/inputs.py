"""Base classes for request bodies: only the fields the schema names, each with the JSON
type the schema promises.

DRF is lenient: a CharField takes `0` and stores "0", a BooleanField takes `"yes"` and `1`,
an IntegerField takes `"7"` and `7.0`. The OpenAPI schema says string, boolean, integer,
so a client that sends anything else gets a 400 naming the field, and the schema stays true.
Form bodies (multipart uploads) carry only text, so they are left to the fields' own parsing.
A field the serializer does not know is refused too (a typo like `titel` would otherwise be
dropped in silence); the schema says so with `additionalProperties: false`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.http import QueryDict
from rest_framework import relations, serializers
from rest_framework.fields import Field

if TYPE_CHECKING:
    _SerializerBase = serializers.Serializer[Any]  # what the mixin is mixed into, for the type checker
else:
    _SerializerBase = object


def _expected(field: Field) -> tuple[tuple[type, ...], str] | None:
    if isinstance(field, serializers.BooleanField):
        return (bool,), "a boolean"
    if isinstance(field, serializers.IntegerField | relations.PrimaryKeyRelatedField):
        return (int,), "an integer"
    if isinstance(field, serializers.FloatField | serializers.DecimalField):
        return (int, float), "a number"
    if isinstance(field, serializers.ChoiceField):
        kinds = {type(choice) for choice in field.choices}
        return (tuple(kinds), "one of the allowed values") if kinds else None
    if isinstance(field, serializers.CharField):
        return (str,), "a string"
    if isinstance(field, serializers.ListField | serializers.ListSerializer):
        return (list,), "a list"
    if isinstance(field, serializers.DictField | serializers.Serializer):
        return (dict,), "an object"
    return None


def type_errors(field: Field, value: Any) -> list[str]:
    """Why `value` is not of `field`'s JSON type (empty when it is)."""
    if value is None:
        return []  # allow_null decides
    expected = _expected(field)
    if expected is None:
        return []
    kinds, label = expected
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        return [f"Must be {label}."]
    if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
        return ["Out of range."]  # no database integer holds it
    max_length = getattr(field, "max_length", None)
    if isinstance(value, str) and max_length is not None and len(value) > max_length:
        # DRF measures after trimming whitespace; the schema's maxLength is about what was sent.
        return [f"Ensure this field has no more than {max_length} characters."]
    child = getattr(field, "child", None)
    if isinstance(value, list) and child is not None and not isinstance(child, serializers.Serializer):
        for item in value:
            if errors := type_errors(child, item):
                return [f"Every item: {errors[0][0].lower()}{errors[0][1:]}"]
    return []


class StrictTypes(_SerializerBase):
    # Mixed into a Serializer or ModelSerializer that reads request bodies. (A comment, not a
    # docstring: drf-spectacular would show a docstring as every subclass's description.)

    rejects_unknown_fields = True  # read by the schema generator: additionalProperties: false

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = {name for name, field in self.fields.items() if not field.read_only}
            if unknown := sorted(str(key) for key in data if key not in known):
                raise serializers.ValidationError({"detail": f"Unknown field(s): {', '.join(unknown)[:200]}."})
        if isinstance(data, QueryDict):
            repeated = {
                name: ["Give one value, not several."]
                for name, field in self.fields.items()
                if len(data.getlist(name)) > 1 and not isinstance(field, serializers.ListField)
            }
            if repeated:
                raise serializers.ValidationError(repeated)
        elif isinstance(data, Mapping):
            errors = {
                name: messages
                for name, field in self.fields.items()
                if not field.read_only and name in data and (messages := type_errors(field, data[name]))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class InputSerializer(StrictTypes, serializers.Serializer):
    pass


class ModelInputSerializer(StrictTypes, serializers.ModelSerializer):
    pass
