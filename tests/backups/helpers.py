"""Django-side helpers for backup tests."""

from __future__ import annotations

from backups.models import BackupConfig


def make_config(name: str = "media", **fields) -> BackupConfig:
    values = {"include_media": True, "archive_format": "tar.zst", "encrypted": True, "kind_policy": "incremental"}
    values.update(fields)
    return BackupConfig.objects.create(name=name, **values)
