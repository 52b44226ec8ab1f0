from __future__ import annotations

from rest_framework import serializers

from backups.models import BackupConfig, BackupRun


class ManualRunInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=BackupRun.Kind.choices, required=False,
                                   help_text="Override the configuration's policy; a run without a base is full.")


class RunStartedSerializer(serializers.Serializer):
    backup_id = serializers.IntegerField(help_text="The run's id (GET /api/backup/history).")
    task_id = serializers.UUIDField(help_text="The `task_id` of this run's `progress` events.")
    status = serializers.ChoiceField(choices=BackupRun.Status.choices)
    config = serializers.CharField()
    kind = serializers.ChoiceField(choices=BackupRun.Kind.choices, help_text="Expected kind; fixed when it starts.")


class RunSerializer(serializers.ModelSerializer):
    config = serializers.CharField(source="config.name")
    size = serializers.IntegerField(source="bytes_out", help_text="Bytes of the archive as stored.")
    parent_id = serializers.IntegerField(allow_null=True, help_text="The run this one stores changes against.")

    class Meta:
        model = BackupRun
        fields = [
            "id", "config", "kind", "status", "started_at", "finished_at", "size", "checksum", "encrypted",
            "parent_id", "trigger", "created_at", "archive_format", "destination", "key_id", "db_engine",
            "bytes_in", "bytes_stored", "file_count", "files_stored", "files_deleted", "error",
            "verified_at", "verify_ok", "task_id",
        ]
        read_only_fields = fields


class VerifyStartedSerializer(serializers.Serializer):
    backup_id = serializers.IntegerField()
    task_id = serializers.UUIDField(help_text="The `task_id` of the verification's `progress` events.")
    status = serializers.CharField(help_text="`queued`: the result lands on the run (`verify_ok`, `verified_at`).")


class RunBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    config = serializers.CharField()
    kind = serializers.ChoiceField(choices=BackupRun.Kind.choices)
    status = serializers.ChoiceField(choices=BackupRun.Status.choices)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    size = serializers.IntegerField()
    checksum = serializers.CharField()
    encrypted = serializers.BooleanField()
    verify_ok = serializers.BooleanField(allow_null=True)


class RunCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()


class ConfigSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    enabled = serializers.BooleanField()
    kind_policy = serializers.ChoiceField(choices=BackupConfig.KindPolicy.choices)
    archive_format = serializers.ChoiceField(choices=BackupConfig.Format.choices)
    encrypted = serializers.BooleanField()
    destination = serializers.ChoiceField(choices=BackupConfig.Destination.choices)
    schedule = serializers.CharField(allow_null=True, help_text="crontab: minute hour day month weekday (timezone)")
    runs = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    size = serializers.IntegerField(help_text="Bytes stored by its completed runs.")
    last_run = RunBriefSerializer(allow_null=True)
    last_success_at = serializers.DateTimeField(allow_null=True)


class BackupOverviewSerializer(serializers.Serializer):
    last_backup = RunBriefSerializer(allow_null=True, help_text="The newest completed run.")
    counts = RunCountsSerializer()
    total_size = serializers.IntegerField(help_text="Bytes stored by every completed run.")
    configs = ConfigSummarySerializer(many=True)
