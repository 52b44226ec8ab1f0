"""`manage.py anomaly replay IN.csv OUT.csv`: the happy path and every kind of bad input."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from .anomaly_series import noise


def write_series(path, values, start=datetime(2024, 1, 1, tzinfo=UTC)):
    lines = ["timestamp,value"]
    lines += [f"{(start + timedelta(minutes=5 * i)).strftime('%Y-%m-%d %H:%M:%S')},{v}" for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    return path


def replay(*args):
    out = io.StringIO()
    call_command("anomaly", "replay", *map(str, args), stdout=out)
    return out.getvalue()


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_it_writes_every_row_with_a_score_and_an_alert(tmp_path):
    values = [round(v, 3) for v in noise(400, seed=11)]
    values[300] = 400.0  # a spike
    source = write_series(tmp_path / "in.csv", values)
    message = replay(source, tmp_path / "out.csv")
    header, *rows = read_rows(tmp_path / "out.csv")
    assert header == ["timestamp", "value", "anomaly_score", "alert"]
    assert len(rows) == 400
    assert [r[:2] for r in rows] == [r for r in read_rows(source)[1:]]  # echoed exactly as read
    scores = [float(r[2]) for r in rows]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert {r[3] for r in rows} <= {"0", "1"}
    assert rows[300][3] == "1" and scores[300] >= 0.5
    assert "Replayed 400 points" in message and "1 alerts raised" in message


def test_it_accepts_iso_timestamps_with_zones_and_unix_seconds(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2024-01-01T00:00:00Z,1\n2024-01-01T01:05:00+01:00,2\n1704067800,3\n")
    replay(source, tmp_path / "out.csv")
    assert len(read_rows(tmp_path / "out.csv")) == 4


def test_a_file_with_only_the_header_gives_an_empty_result(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n")
    replay(source, tmp_path / "out.csv")
    assert read_rows(tmp_path / "out.csv") == [["timestamp", "value", "anomaly_score", "alert"]]


def test_output_may_replace_the_input(tmp_path):
    source = write_series(tmp_path / "in.csv", [1.0, 2.0, 3.0])
    replay(source, source)
    assert read_rows(source)[0] == ["timestamp", "value", "anomaly_score", "alert"]


@pytest.mark.parametrize(("content", "message"), [
    ("", "empty file"),
    ("time,val\n2024-01-01 00:00:00,1\n", "line 1: expected the header 'timestamp,value'"),
    ("timestamp,value\n2024-01-01 00:00:00,1\nyesterday,2\n", "line 3: unparsable timestamp 'yesterday'"),
    ("timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,n/a\n", "line 3: unparsable value 'n/a'"),
    ("timestamp,value\n2024-01-01 00:00:00,nan\n", "line 2: value 'nan' is not a finite number"),
    ("timestamp,value\n2024-01-01 00:00:00,1,2\n", "line 2: expected 2 fields"),
    ("timestamp,value\n2024-01-01 00:10:00,1\n2024-01-01 00:05:00,2\n",
     "line 3: timestamp '2024-01-01 00:05:00' is earlier than the previous row's '2024-01-01 00:10:00'"),
    ("timestamp,value\n2024-01-01 00:00:00,1\n\n2024-01-01 00:05:00\n", "line 4: expected 2 fields"),
])
def test_bad_input_stops_with_a_one_line_message_and_no_output(tmp_path, content, message):
    source = tmp_path / "in.csv"
    source.write_text(content)
    with pytest.raises(CommandError) as error:
        replay(source, tmp_path / "out.csv")
    assert message in str(error.value)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "out.csv").exists()
    assert list(tmp_path.iterdir()) == [source]  # no temporary file left either


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(CommandError, match="missing.csv: no such file"):
        replay(tmp_path / "missing.csv", tmp_path / "out.csv")


def test_a_file_that_is_not_text_is_refused(tmp_path):
    source = tmp_path / "in.csv"
    source.write_bytes(b"timestamp,value\n\xff\xfe\x00\x01,1\n")
    with pytest.raises(CommandError, match="not UTF-8 text"):
        replay(source, tmp_path / "out.csv")


def test_an_output_directory_that_does_not_exist_is_named(tmp_path):
    source = write_series(tmp_path / "in.csv", [1.0, 2.0])
    with pytest.raises(CommandError, match="does not exist"):
        replay(source, tmp_path / "nowhere" / "out.csv")


def test_unsorted_rows_can_be_replayed_in_file_order_on_request(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2024-01-01 00:10:00,1\n2024-01-01 00:05:00,2\n")
    replay(source, tmp_path / "out.csv", "--allow-unsorted")
    assert [r[0] for r in read_rows(tmp_path / "out.csv")[1:]] == ["2024-01-01 00:10:00", "2024-01-01 00:05:00"]


def test_an_action_is_required():
    with pytest.raises(CommandError, match="ACTION"):
        call_command("anomaly")
