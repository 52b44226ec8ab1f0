"""Archive formats, written and read as streams.

    tar.gz    PAX tar through gzip: `tar xzf` reads an unencrypted one
    tar.zst   PAX tar through zstd (multithreaded, checksummed frames): `tar --zstd -xf`
    zip       deflate, zip64 when needed: `unzip` reads it

Writers never seek, so an archive can go straight to an upload. Readers of the tar formats
stream; zip keeps its index at the end, so reading one needs a seekable file (the caller
spools a download or a decryption to a temporary file first).

Nothing here extracts: members are handed out as streams and restore.py decides, after the
path checks, what is written where.
"""

from __future__ import annotations

import gzip
import hashlib
import stat
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, BinaryIO, Protocol

import zstandard

from backups.engine.streams import COPY_BLOCK, ReadAhead, Writable

FORMATS = ("tar.gz", "tar.zst", "zip")
DEFAULT_LEVELS = {"tar.gz": 6, "tar.zst": 3, "zip": 6}
LEVEL_RANGES = {"tar.gz": (1, 9), "tar.zst": (1, 19), "zip": (1, 9)}
_BLOCK = tarfile.BLOCKSIZE


class ArchiveError(Exception):
    """An archive that cannot be read as its format, or a member that cannot be written."""


class FileChangedError(ArchiveError):
    """A source file shrank while it was read: its bytes no longer match the size announced."""


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ArchiveError(f"unknown archive format {fmt!r}; use one of {', '.join(FORMATS)}")
    return fmt


def level_for(fmt: str, level: int | None) -> int:
    low, high = LEVEL_RANGES[check_format(fmt)]
    if level is None:
        return DEFAULT_LEVELS[fmt]
    if not low <= level <= high:
        raise ArchiveError(f"{fmt} compression level must be {low}-{high}, got {level}")
    return level


def suffix(fmt: str, encrypted: bool) -> str:
    return f".{check_format(fmt)}" + (".enc" if encrypted else "")


def copy_hashed(source: BinaryIO, sink: Writable, size: int, on_bytes: Callable[[int], None] | None = None) -> str:
    """Copy exactly `size` bytes, returning their SHA-256; a source that ends early raises."""
    digest = hashlib.sha256()
    remaining = size
    while remaining:
        block = source.read(min(COPY_BLOCK, remaining))
        if not block:
            raise FileChangedError(f"file shrank while it was read ({remaining} of {size} bytes missing)")
        digest.update(block)
        sink.write(block)
        remaining -= len(block)
        if on_bytes is not None:
            on_bytes(len(block))
    return digest.hexdigest()


# --- Writers ---------------------------------------------------------------------


class ArchiveWriter:
    """Members in, one archive stream out to `sink`. `close()` finishes the archive
    (end blocks, last compressed frame) but leaves the sink open."""

    def add_file(self, name: str, source: BinaryIO, *, size: int, mode: int, mtime_ns: int,
                 on_bytes: Callable[[int], None] | None = None) -> str:
        raise NotImplementedError

    def add_dir(self, name: str, *, mode: int, mtime_ns: int) -> None:
        raise NotImplementedError

    def add_symlink(self, name: str, target: str, *, mtime_ns: int) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class _NoClose:
    """Hands writes to `sink`; compressors' close() must not close the layer below."""

    def __init__(self, sink: Writable):
        self._sink = sink

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._sink.write(data)
        return len(data)

    def flush(self) -> None:
        pass

    def writable(self) -> bool:
        return True

    def close(self) -> None:
        pass


class _Compressor(Protocol):
    def write(self, data: bytes | bytearray | memoryview, /) -> int: ...

    def close(self) -> None: ...


class TarWriter(ArchiveWriter):
    def __init__(self, sink: Writable, *, compression: str, level: int, threads: int = 0):
        self._compressor: _Compressor
        if compression == "gz":
            self._compressor = gzip.GzipFile(fileobj=_NoClose(sink), mode="wb",
                                             compresslevel=level, mtime=0, filename="")
        else:
            cctx = zstandard.ZstdCompressor(level=level, threads=threads, write_checksum=True)
            self._compressor = cctx.stream_writer(_NoClose(sink), write_size=COPY_BLOCK,  # type: ignore[arg-type]
                                                  closefd=False)
        self._offset = 0

    def _write(self, data: bytes | bytearray | memoryview) -> None:
        self._compressor.write(data)
        self._offset += len(data)

    def _header(self, info: tarfile.TarInfo) -> None:
        self._write(info.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape"))

    @staticmethod
    def _info(name: str, kind: bytes, mode: int, mtime_ns: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode & 0o7777
        # Whole seconds keep the header plain ustar for most members; ns live in the manifest.
        info.mtime = max(0, mtime_ns // 1_000_000_000)
        info.uname = info.gname = ""
        return info

    def add_file(self, name: str, source: BinaryIO, *, size: int, mode: int, mtime_ns: int,
                 on_bytes: Callable[[int], None] | None = None) -> str:
        info = self._info(name, tarfile.REGTYPE, mode, mtime_ns)
        info.size = size
        self._header(info)
        digest = copy_hashed(source, self, size, on_bytes)
        padding = -size % _BLOCK
        if padding:
            self._write(b"\0" * padding)
        return digest

    def write(self, data: bytes | bytearray | memoryview) -> int:  # copy_hashed's sink
        self._write(data)
        return len(data)

    def add_dir(self, name: str, *, mode: int, mtime_ns: int) -> None:
        self._header(self._info(name.rstrip("/") + "/", tarfile.DIRTYPE, mode, mtime_ns))

    def add_symlink(self, name: str, target: str, *, mtime_ns: int) -> None:
        info = self._info(name, tarfile.SYMTYPE, 0o777, mtime_ns)
        info.linkname = target
        self._header(info)

    def close(self) -> None:
        end = 2 * _BLOCK
        end += -(self._offset + end) % tarfile.RECORDSIZE
        self._write(b"\0" * end)
        self._compressor.close()


class ZipWriter(ArchiveWriter):
    def __init__(self, sink: Writable, *, level: int):
        self._zip = zipfile.ZipFile(_Unseekable(sink), "w", compression=zipfile.ZIP_DEFLATED,  # type: ignore[call-overload]
                                    compresslevel=level, allowZip64=True)

    @staticmethod
    def _info(name: str, mode: int, mtime_ns: int) -> zipfile.ZipInfo:
        seconds = max(mtime_ns // 1_000_000_000, 315532800 + 86400)  # zip dates start in 1980
        info = zipfile.ZipInfo(name, date_time=time.gmtime(seconds)[:6])
        info.external_attr = (mode & 0xFFFF) << 16
        info.create_system = 3  # unix: unzip honours the mode bits
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    def add_file(self, name: str, source: BinaryIO, *, size: int, mode: int, mtime_ns: int,
                 on_bytes: Callable[[int], None] | None = None) -> str:
        info = self._info(name, stat.S_IFREG | (mode & 0o7777), mtime_ns)
        info.file_size = size
        with self._zip.open(info, "w", force_zip64=size > 0x7FFFFFFF) as member:
            return copy_hashed(source, member, size, on_bytes)

    def add_dir(self, name: str, *, mode: int, mtime_ns: int) -> None:
        info = self._info(name.rstrip("/") + "/", stat.S_IFDIR | (mode & 0o7777), mtime_ns)
        info.external_attr |= 0x10  # MS-DOS directory flag
        info.compress_type = zipfile.ZIP_STORED
        self._zip.writestr(info, b"")

    def add_symlink(self, name: str, target: str, *, mtime_ns: int) -> None:
        info = self._info(name, stat.S_IFLNK | 0o777, mtime_ns)
        self._zip.writestr(info, target.encode("utf-8", "surrogateescape"))

    def close(self) -> None:
        self._zip.close()


class _Unseekable:
    """No tell()/seek(): zipfile then writes data descriptors and never seeks back."""

    def __init__(self, sink: Writable):
        self._sink = sink

    def write(self, data: bytes | bytearray | memoryview) -> int:
        self._sink.write(data)
        return len(data)

    def flush(self) -> None:
        pass


def open_writer(fmt: str, sink: Writable, *, level: int | None = None, threads: int = 0) -> ArchiveWriter:
    level = level_for(fmt, level)
    if fmt == "zip":
        return ZipWriter(sink, level=level)
    return TarWriter(sink, compression="gz" if fmt == "tar.gz" else "zst", level=level, threads=threads)


# --- Readers ---------------------------------------------------------------------

FILE, DIR, SYMLINK, OTHER = "file", "dir", "symlink", "other"


@dataclass
class Member:
    name: str
    type: str  # file, dir, symlink, or other (hard links, devices, fifos: never restored)
    size: int
    mode: int
    linkname: str
    stream: BinaryIO | None  # the content of a file, readable once, before the next member


_READ_ERRORS = (tarfile.TarError, EOFError, OSError, zlib.error, zstandard.ZstdError, zipfile.BadZipFile)


class _Guarded:
    """A member's content stream whose read errors (bad CRC, truncated data) are ArchiveErrors."""

    def __init__(self, stream: IO[bytes], what: str):
        self._stream = stream
        self._what = what

    def read(self, size: int = -1) -> bytes:
        try:
            return self._stream.read(size)
        except _READ_ERRORS as exc:
            raise ArchiveError(f"{self._what} archive is damaged: {exc}") from exc


def _tar_type(info: tarfile.TarInfo) -> str:
    if info.isreg():
        return FILE
    if info.isdir():
        return DIR
    if info.issym():
        return SYMLINK
    return OTHER


def _decompressed(fmt: str, source: BinaryIO) -> BinaryIO:
    if fmt == "tar.gz":
        return gzip.GzipFile(fileobj=source, mode="rb")  # type: ignore[return-value]
    dctx = zstandard.ZstdDecompressor()
    return dctx.stream_reader(source, read_size=COPY_BLOCK, read_across_frames=True,
                              closefd=False)


class _MemberReader:
    """The content of one tar member: reads stop at its end; `finish()` skips what is left."""

    def __init__(self, stream: ReadAhead, size: int, what: str):
        self._stream = stream
        self._left = size
        self._padding = -size % _BLOCK
        self._what = what

    def read(self, size: int = -1) -> bytes:
        if self._left <= 0:
            return b""
        wanted = self._left if size is None or size < 0 else min(size, self._left)
        try:
            data = self._stream.read(wanted)
        except _READ_ERRORS as exc:
            raise ArchiveError(f"{self._what} archive is damaged: {exc}") from exc
        if not data:
            raise ArchiveError(f"{self._what} archive is truncated inside a member")
        self._left -= len(data)
        return data

    def finish(self) -> None:
        while self._left > 0:
            self.read(COPY_BLOCK)
        _read_exact(self._stream, self._padding)


def _read_exact(stream: ReadAhead, size: int) -> bytes:
    parts = []
    while size > 0:
        data = stream.read(size)
        if not data:
            break
        parts.append(data)
        size -= len(data)
    return b"".join(parts)


def _pax_records(data: bytes) -> dict[str, str]:
    """`length key=value\n` records of a PAX extended header."""
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos:pos + 1] != b"\0":
        space = data.index(b" ", pos)
        length = int(data[pos:space])
        if length <= 0:
            raise ArchiveError("tar archive is damaged: bad PAX record")
        key, _, value = data[space + 1:pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


_EXTENDED = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.GNUTYPE_LONGNAME, tarfile.GNUTYPE_LONGLINK)


def _tar_members(stream: ReadAhead, fmt: str) -> Iterator[Member]:
    """A streaming tar parser (ustar, PAX, GNU long names): content blocks are handed out as
    they come, without the copies tarfile's stream mode makes."""
    pax: dict[str, str] = {}
    long_name = long_link = ""
    while True:
        header = _read_exact(stream, _BLOCK)
        if len(header) < _BLOCK:
            raise ArchiveError(f"{fmt} archive is truncated (no end-of-archive blocks)")
        if header == b"\0" * _BLOCK:
            return
        info = tarfile.TarInfo.frombuf(header, "utf-8", "surrogateescape")
        if info.type in _EXTENDED:
            data = _read_exact(stream, info.size + (-info.size % _BLOCK))[:info.size]
            if info.type == tarfile.XHDTYPE:
                pax = _pax_records(data)
            elif info.type == tarfile.GNUTYPE_LONGNAME:
                long_name = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
            elif info.type == tarfile.GNUTYPE_LONGLINK:
                long_link = data.rstrip(b"\0").decode("utf-8", "surrogateescape")
            continue
        kind = _tar_type(info)
        size = int(pax.get("size", info.size))
        has_data = info.isreg() or info.type not in tarfile.SUPPORTED_TYPES
        reader = _MemberReader(stream, size if has_data else 0, fmt)
        name = pax.get("path") or long_name or info.name
        linkname = pax.get("linkpath") or long_link or info.linkname
        pax, long_name, long_link = {}, "", ""
        yield Member(name, kind, size if kind == FILE else 0, info.mode, linkname,
                     reader if kind == FILE else None)  # type: ignore[arg-type]
        reader.finish()


def iter_tar(fmt: str, source: BinaryIO) -> Iterator[Member]:
    """Members of a tar.gz / tar.zst stream, in order; then the rest of the stream is read
    through, so a bad trailer (checksum, appended garbage) raises too. Decompression runs
    in a read-ahead thread."""
    stream = ReadAhead(_decompressed(fmt, source))
    try:
        yield from _tar_members(stream, fmt)
        while stream.read(COPY_BLOCK):
            pass
    except (*_READ_ERRORS, ValueError) as exc:
        raise ArchiveError(f"{fmt} archive is damaged: {exc}") from exc
    finally:
        stream.close()


def iter_zip(source: BinaryIO) -> Iterator[Member]:
    """Members of a zip in a seekable file."""
    try:
        archive = zipfile.ZipFile(source)
        for info in archive.infolist():
            mode = info.external_attr >> 16
            if info.is_dir() or stat.S_ISDIR(mode):
                kind = DIR
            elif stat.S_ISLNK(mode):
                kind = SYMLINK
            elif stat.S_ISREG(mode) or mode == 0:
                kind = FILE
            else:
                kind = OTHER
            if kind == SYMLINK:
                with archive.open(info) as link:
                    target = link.read(4096).decode("utf-8", "surrogateescape")
                yield Member(info.filename, kind, 0, mode, target, None)
            elif kind == FILE:
                with archive.open(info) as member:
                    yield Member(info.filename, kind, info.file_size, mode, "",
                                 _Guarded(member, "zip"))  # type: ignore[arg-type]
            else:
                yield Member(info.filename, kind, 0, mode, "", None)
    except (*_READ_ERRORS, zipfile.LargeZipFile) as exc:
        raise ArchiveError(f"zip archive is damaged: {exc}") from exc


def iter_members(fmt: str, source: BinaryIO) -> Iterator[Member]:
    check_format(fmt)
    return iter_zip(source) if fmt == "zip" else iter_tar(fmt, source)
