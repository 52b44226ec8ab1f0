"""Replay a ``timestamp,value`` CSV through a detector, in time order.

Reading checks the whole file first (header, one timestamp and one finite value per
row, timestamps in order) and names the line of the first problem; the detector then
sees the rows one by one, each scored before the next is read by it. Output is NAB's
results format plus our alert: ``timestamp,value,anomaly_score,alert``; the timestamp
and value are written back exactly as read.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .detector import MetricDetector, Verdict

HEADER = ("timestamp", "value")
OUTPUT_HEADER = ("timestamp", "value", "anomaly_score", "alert")


class ReplayError(ValueError):
    """Bad input, with a one-line message that names the file and line."""


@dataclass(frozen=True)
class Row:
    line: int
    timestamp_text: str
    timestamp: float  # Unix seconds
    value_text: str
    value: float


def parse_timestamp(text: str) -> float:
    """ISO 8601 (naive means UTC, NAB's convention) or Unix seconds."""
    stripped = text.strip()
    try:
        moment = datetime.fromisoformat(stripped)
    except ValueError:
        seconds = float(stripped)  # ValueError propagates: neither form
        if not math.isfinite(seconds):
            raise ValueError(stripped) from None
        return seconds
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def read_series(path: str | Path, *, allow_unsorted: bool = False) -> list[Row]:
    """Every row of the file, checked; ReplayError names the first bad line."""
    name = str(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            return _parse(csv.reader(handle), name, allow_unsorted)
    except FileNotFoundError:
        raise ReplayError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise ReplayError(f"{name}: is a directory, not a CSV file") from None
    except PermissionError:
        raise ReplayError(f"{name}: permission denied") from None
    except UnicodeDecodeError:
        raise ReplayError(f"{name}: not UTF-8 text") from None
    except csv.Error as error:
        raise ReplayError(f"{name}: not a readable CSV ({error})") from None


def _parse(reader: Iterator[list[str]], name: str, allow_unsorted: bool) -> list[Row]:
    header = next(reader, None)
    if header is None:
        raise ReplayError(f"{name}: empty file, expected the header 'timestamp,value'")
    if tuple(cell.strip().lower() for cell in header) != HEADER:
        raise ReplayError(f"{name} line 1: expected the header 'timestamp,value', got {','.join(header)!r}")
    rows: list[Row] = []
    for cells in reader:
        line = getattr(reader, "line_num", len(rows) + 2)
        if not cells or (len(cells) == 1 and not cells[0].strip()):
            continue  # blank line
        if len(cells) != 2:
            raise ReplayError(f"{name} line {line}: expected 2 fields (timestamp,value), got {len(cells)}")
        stamp_text, value_text = cells
        try:
            stamp = parse_timestamp(stamp_text)
        except (ValueError, OverflowError):
            raise ReplayError(f"{name} line {line}: unparsable timestamp {stamp_text!r}") from None
        try:
            value = float(value_text)
        except ValueError:
            raise ReplayError(f"{name} line {line}: unparsable value {value_text!r}") from None
        if not math.isfinite(value):
            raise ReplayError(f"{name} line {line}: value {value_text!r} is not a finite number")
        if rows and stamp < rows[-1].timestamp and not allow_unsorted:
            raise ReplayError(f"{name} line {line}: timestamp {stamp_text.strip()!r} is earlier than the previous "
                              f"row's {rows[-1].timestamp_text.strip()!r} (rows must be in time order)")
        rows.append(Row(line, stamp_text, stamp, value_text, value))
    return rows


def replay(rows: Sequence[Row], detector: MetricDetector | None = None,
           progress: Callable[[int], object] | None = None) -> Iterator[tuple[Row, Verdict]]:
    """Each row with the detector's verdict on it, scored before later rows are seen."""
    detector = detector or MetricDetector()
    for row in rows:
        yield row, detector.update(row.value, row.timestamp)
        if progress is not None:
            progress(1)


def write_results(path: str | Path, results: Iterator[tuple[Row, Verdict]]) -> int:
    """Write ``timestamp,value,anomaly_score,alert`` atomically; returns the alerts raised."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        raise ReplayError(f"{target}: directory {directory} does not exist")
    if target.is_dir():
        raise ReplayError(f"{target}: is a directory")
    onsets = 0
    try:
        handle = tempfile.NamedTemporaryFile("w", dir=directory, prefix=f".{target.name}.", suffix=".tmp",
                                             newline="", encoding="utf-8", delete=False)
    except OSError as error:
        raise ReplayError(f"{target}: cannot write ({error.strerror})") from None
    try:
        with handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(OUTPUT_HEADER)
            for row, verdict in results:
                writer.writerow((row.timestamp_text, row.value_text, f"{verdict.score:.6f}", int(verdict.alert)))
                onsets += verdict.onset
        os.replace(handle.name, target)
    except BaseException:
        os.unlink(handle.name)
        raise
    return onsets
