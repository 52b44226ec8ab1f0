"""restic-style forget over generated calendars of runs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from backups.engine.retention import Policy, Snapshot, forget


def calendar(start: datetime, days: int, *, hours=(2,)) -> list[Snapshot]:
    snaps = []
    for day in range(days):
        for hour in hours:
            snaps.append(Snapshot(len(snaps) + 1, start + timedelta(days=day, hours=hour)))
    return snaps


def kept(snaps, policy) -> set[int]:
    decision = forget(snaps, policy, tz=UTC)
    assert set(decision.keep) | set(decision.remove) == {s.id for s in snaps}
    assert not set(decision.keep) & set(decision.remove)
    return set(decision.keep)


START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday


def test_keep_daily_keeps_the_newest_run_of_each_recent_day():
    snaps = calendar(START, 10, hours=(2, 14))  # ids: day d -> 2d+1 (02:00), 2d+2 (14:00)
    assert kept(snaps, Policy(keep_daily=3)) == {20, 18, 16}


def test_keep_last_and_keep_weekly_combine():
    snaps = calendar(START, 28)  # four ISO weeks, Monday to Sunday
    # last 2: 28, 27; weekly 3: the newest of weeks 4, 3, 2 -> 28, 21, 14
    assert kept(snaps, Policy(keep_last=2, keep_weekly=3)) == {28, 27, 21, 14}


def test_keep_monthly_counts_calendar_months_with_runs():
    snaps = calendar(datetime(2026, 1, 1, tzinfo=UTC), 120)  # Jan 1 .. Apr 30
    by_time = {s.time.date(): s.id for s in snaps}
    expected = {by_time[date(2026, 4, 30)], by_time[date(2026, 3, 31)],
                by_time[date(2026, 2, 28)]}
    assert kept(snaps, Policy(keep_monthly=3)) == expected


def test_days_without_runs_do_not_use_up_the_daily_count():
    snaps = [s for s in calendar(START, 10) if s.id not in (9, 8)]  # two days missing
    assert kept(snaps, Policy(keep_daily=3)) == {10, 7, 6}


def test_keep_within_counts_back_from_the_newest_run_not_from_now():
    snaps = calendar(datetime(2020, 1, 1, tzinfo=UTC), 30)  # backups stopped years ago
    assert kept(snaps, Policy(keep_within=timedelta(days=7))) == set(range(23, 31))


def test_a_kept_incremental_keeps_its_whole_chain():
    snaps = [Snapshot(1, START), Snapshot(2, START + timedelta(days=1), parent_id=1),
             Snapshot(3, START + timedelta(days=2), parent_id=2), Snapshot(4, START + timedelta(days=3)),
             Snapshot(5, START + timedelta(days=4), parent_id=4)]
    decision = forget(snaps, Policy(keep_last=1), tz=UTC)
    assert set(decision.keep) == {5, 4}
    assert decision.remove == [3, 2, 1]
    assert set(forget(snaps, Policy(keep_daily=2), tz=UTC).keep) == {5, 4}
    assert set(forget(snaps, Policy(keep_last=3), tz=UTC).keep) == {5, 4, 3, 2, 1}


def test_a_kept_differential_keeps_its_full_but_not_its_siblings():
    snaps = [Snapshot(1, START), Snapshot(2, START + timedelta(days=1), parent_id=1),
             Snapshot(3, START + timedelta(days=2), parent_id=1)]
    decision = forget(snaps, Policy(keep_last=1), tz=UTC)
    assert set(decision.keep) == {3, 1}
    assert decision.remove == [2]
    assert "needed by run 3" in decision.keep[1]


def test_an_empty_policy_deletes_nothing():
    snaps = calendar(START, 40)
    decision = forget(snaps, Policy(), tz=UTC)
    assert decision.remove == []


def test_a_large_generated_calendar_keeps_exactly_the_expected_runs():
    # A year of nightly runs; restic's classic policy.
    snaps = calendar(datetime(2025, 11, 25, tzinfo=UTC), 365)
    keep = kept(snaps, Policy(keep_daily=7, keep_weekly=4, keep_monthly=6))
    newest = max(snaps, key=lambda s: s.time)
    dates = {s.id: s.time.date() for s in snaps}
    daily = {s.id for s in snaps if (newest.time - s.time).days < 7}
    # Sundays close ISO weeks: the newest run of the 4 newest weeks (this one is partial).
    weeks = sorted({dates[i].isocalendar()[:2] for i in dates}, reverse=True)[:4]
    weekly = {max((i for i in dates if dates[i].isocalendar()[:2] == w), key=dates.get) for w in weeks}
    months = sorted({(dates[i].year, dates[i].month) for i in dates}, reverse=True)[:6]
    monthly = {max((i for i in dates if (dates[i].year, dates[i].month) == m), key=dates.get) for m in months}
    assert keep == daily | weekly | monthly
    assert len(keep) < 20


def test_negative_counts_are_refused():
    with pytest.raises(ValueError):
        Policy(keep_last=-1)
