"""The configured destinations, built from settings."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings

from backups.engine.destinations import Destination, LocalDestination, S3Destination
from tecnocursos.core.exceptions import ApplicationError


@lru_cache(maxsize=4)
def _s3_client(endpoint_url: str | None, region: str | None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10, read_timeout=120)
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, config=config)


def destination_for(kind: str) -> Destination:
    if kind == "local":
        return LocalDestination(settings.BACKUP_ROOT)
    if kind == "s3":
        if not settings.BACKUP_S3_BUCKET:
            raise ApplicationError("The S3 destination is not configured: set BACKUP_S3_BUCKET.")
        client = _s3_client(settings.BACKUP_S3_ENDPOINT_URL, settings.BACKUP_S3_REGION)
        return S3Destination(client, settings.BACKUP_S3_BUCKET, settings.BACKUP_S3_PREFIX,
                             part_size=settings.BACKUP_S3_PART_BYTES)
    raise ApplicationError(f"Unknown backup destination {kind!r}.")
