"""Where archives live: a local directory, or S3-compatible object storage.

An archive appears under its final name only once it is complete:
- local: written to a hidden temporary file in the same directory, fsynced, renamed, and the
  directory fsynced (a crash leaves at most a `.tmp-` file, never a partial final file);
- S3: a multipart upload, which shows no object until it is completed (a crash leaves an
  unfinished upload, aborted by the cleanup).
Each writer exposes `temp_ref`, recorded on the run before any byte is written, so the
cleanup after a crash knows exactly what to remove.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Protocol

from backups.engine.pathsafety import UnsafePath, check_name

TEMP_PREFIX = ".tmp-"


class DestinationError(Exception):
    """The destination refused or failed an operation."""


class ObjectWriter(Protocol):
    temp_ref: str

    def write(self, data: bytes | bytearray | memoryview, /) -> int: ...

    def commit(self) -> None: ...

    def abort(self) -> None: ...


class Destination(Protocol):
    kind: str

    def describe(self) -> str: ...

    def writer(self, key: str) -> ObjectWriter: ...

    def open(self, key: str) -> BinaryIO: ...

    def size(self, key: str) -> int | None: ...

    def delete(self, key: str) -> None: ...

    def discard_temp(self, temp_ref: str) -> None: ...

    def stale_temps(self, older_than_seconds: float) -> Iterator[str]: ...


def _check_key(key: str) -> str:
    try:
        return check_name(key)
    except UnsafePath as exc:
        raise DestinationError(f"invalid object name: {exc}") from exc


# --- Local directory -----------------------------------------------------------------


class LocalWriter:
    def __init__(self, root: Path, key: str):
        self.final = root.joinpath(*PurePosixPath(key).parts)
        directory = self.final.parent
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.temp = directory / f"{TEMP_PREFIX}{self.final.name}-{secrets.token_hex(4)}"
        self.temp_ref = str(self.temp.relative_to(root))
        # 0600: archives hold the whole database; only the service account reads them.
        fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        self._file = os.fdopen(fd, "wb", buffering=1024 * 1024)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        return self._file.write(data)

    def commit(self) -> None:
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        if self.final.exists():
            self.abort()
            raise DestinationError(f"{self.final} exists already; not overwriting it")
        os.rename(self.temp, self.final)
        _fsync_dir(self.final.parent)

    def abort(self) -> None:
        if not self._file.closed:
            self._file.close()
        self.temp.unlink(missing_ok=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class LocalDestination:
    root: Path
    kind: str = "local"

    def describe(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*PurePosixPath(_check_key(key)).parts)

    def writer(self, key: str) -> LocalWriter:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        return LocalWriter(self.root, _check_key(key))

    def open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb", buffering=0)
        except FileNotFoundError:
            raise DestinationError(f"archive {key} is missing from {self.root}") from None

    def size(self, key: str) -> int | None:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def discard_temp(self, temp_ref: str) -> None:
        path = self._path(temp_ref)
        if path.name.startswith(TEMP_PREFIX):
            path.unlink(missing_ok=True)

    def stale_temps(self, older_than_seconds: float) -> Iterator[str]:
        if not self.root.exists():
            return
        cutoff = time.time() - older_than_seconds
        for path in self.root.rglob(f"{TEMP_PREFIX}*"):
            try:
                if path.is_file() and path.stat().st_mtime < cutoff:
                    yield str(path.relative_to(self.root))
            except FileNotFoundError:
                continue


# --- S3 ------------------------------------------------------------------------------

PART_SIZE = 16 * 1024 * 1024  # S3 wants >= 5 MiB parts (but the last) and <= 10,000 of them


class S3Writer:
    def __init__(self, client: Any, bucket: str, key: str, part_size: int):
        self._client = client
        self._bucket = bucket
        self._key = key
        self._part_size = part_size
        upload = client.create_multipart_upload(Bucket=bucket, Key=key, ContentType="application/octet-stream")
        self._upload_id = upload["UploadId"]
        self.temp_ref = f"{key}?uploadId={self._upload_id}"
        self._buffer = bytearray()
        self._parts: list[dict[str, Any]] = []

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._buffer += data
        if len(self._buffer) >= self._part_size:
            self._send()
        return len(data)

    def _send(self) -> None:
        number = len(self._parts) + 1
        answer = self._client.upload_part(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                                          PartNumber=number, Body=bytes(self._buffer))
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        self._buffer = bytearray()

    def commit(self) -> None:
        if self._buffer or not self._parts:
            self._send()
        self._client.complete_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                                               MultipartUpload={"Parts": self._parts})

    def abort(self) -> None:
        self._buffer = bytearray()
        try:
            self._client.abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
        except Exception:  # best effort; the stale sweep retries
            pass


class _Body:
    """botocore's StreamingBody as a plain binary stream."""

    def __init__(self, body: Any):
        self._body = body
        self.closed = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._body.read(None if size is None or size < 0 else size)
        return data

    def close(self) -> None:
        self._body.close()
        self.closed = True

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class S3Destination:
    client: Any  # a boto3 S3 client
    bucket: str
    prefix: str = ""
    part_size: int = PART_SIZE
    kind: str = "s3"

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def _key(self, key: str) -> str:
        key = _check_key(key)
        return f"{self.prefix.strip('/')}/{key}" if self.prefix.strip("/") else key

    def _errors(self) -> tuple[type[BaseException], ...]:
        from botocore.exceptions import BotoCoreError, ClientError

        return (BotoCoreError, ClientError)

    def writer(self, key: str) -> S3Writer:
        try:
            return S3Writer(self.client, self.bucket, self._key(key), self.part_size)
        except self._errors() as exc:
            raise DestinationError(f"S3 upload to {self.describe()} failed: {exc}") from exc

    def open(self, key: str) -> BinaryIO:
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except self._errors() as exc:
            raise DestinationError(f"archive {key} cannot be read from {self.describe()}: {exc}") from exc
        return _Body(answer["Body"])  # type: ignore[return-value]

    def size(self, key: str) -> int | None:
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"])
        except self._errors():
            return None

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except self._errors() as exc:
            raise DestinationError(f"cannot delete {key} from {self.describe()}: {exc}") from exc

    def discard_temp(self, temp_ref: str) -> None:
        key, _, upload_id = temp_ref.partition("?uploadId=")
        if upload_id:
            try:
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            except self._errors():
                pass  # already completed or aborted

    def stale_temps(self, older_than_seconds: float) -> Iterator[str]:
        import datetime as dt

        cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=older_than_seconds)
        prefix = self.prefix.strip("/")
        try:
            answer = self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=f"{prefix}/" if prefix else "")
        except self._errors():
            return
        for upload in answer.get("Uploads", []):
            if upload["Initiated"] < cutoff:
                yield f"{upload['Key']}?uploadId={upload['UploadId']}"
