from __future__ import annotations

from rest_framework import serializers

from realtime.models import Notification
from tecnocursos.core.api.inputs import InputSerializer


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.BooleanField(source="is_read", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "title", "message", "level", "broadcast", "read", "read_at", "created_at"]
        read_only_fields = fields


class NotificationCreateSerializer(InputSerializer):
    user = serializers.IntegerField(min_value=1, help_text="The recipient's id; an unknown or inactive user is a 404.")
    title = serializers.CharField(max_length=200)
    message = serializers.CharField()
    level = serializers.ChoiceField(choices=Notification.Level.choices, default=Notification.Level.INFO)


class NotificationReadSerializer(InputSerializer):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=1000,
                                help_text="Notifications to mark read; all unread ones when left out.")


class NotificationReadResultSerializer(serializers.Serializer):
    updated = serializers.IntegerField()


class BroadcastSerializer(InputSerializer):
    message = serializers.CharField()
    title = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    level = serializers.ChoiceField(choices=Notification.Level.choices, default=Notification.Level.INFO)


class RoomPresenceSerializer(serializers.Serializer):
    name = serializers.CharField()
    members = serializers.IntegerField(help_text="Distinct users connected to the room.")
    connections = serializers.IntegerField(help_text="Sockets joined to the room.")


class ServerConnectionsSerializer(serializers.Serializer):
    server = serializers.CharField()
    connections = serializers.IntegerField()


class StatsSerializer(serializers.Serializer):
    connections = serializers.IntegerField(help_text="Live sockets, every server process.")
    users = serializers.IntegerField(help_text="Distinct connected users.")
    rooms = serializers.IntegerField(help_text="Rooms with at least one live member.")
    messages_in = serializers.IntegerField(help_text="Frames received since the counters began.")
    messages_out = serializers.IntegerField(help_text="Events sent.")
    # The metaclass takes declared fields out of the class, so this does not shadow `Serializer.errors`;
    # the stubs cannot see that.
    errors = serializers.IntegerField(help_text="`error` events sent.")  # type: ignore[assignment]
    rate_limited = serializers.IntegerField(help_text="Frames refused by the rate limit.")
    chat_messages = serializers.IntegerField(help_text="Chat messages stored.")
    connections_total = serializers.IntegerField(help_text="Connections opened since the counters began.")
    servers = ServerConnectionsSerializer(many=True)
