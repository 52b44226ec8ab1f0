"""An alert's lifecycle, as Prometheus and Alertmanager run it (no Django).

    inactive --breach--> pending --breach held `for`--> firing --no breach for `keep_firing_for`--> resolved

A pending alert whose condition stops holding is resolved without ever firing (and without a
notification). While firing, a notification is repeated every `repeat_seconds` unless the alert
is acknowledged; a silenced alert changes state as usual but notifies nothing (when the silence
ends while it still fires, the firing notification goes out then). `advance` is a pure function
of the episode, the condition and the time: evaluating twice at the same moment changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class State(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


class Notice(StrEnum):
    FIRING = "firing"
    REPEAT = "repeat"
    RESOLVED = "resolved"


ACTIVE = (State.PENDING, State.FIRING)


@dataclass(frozen=True)
class Timing:
    for_seconds: float = 0.0
    keep_firing_for_seconds: float = 0.0
    repeat_seconds: float = 0.0  # 0: notify once


@dataclass(frozen=True)
class Episode:
    """One alert from its first breach to its resolution; times are UNIX seconds."""

    state: State = State.INACTIVE
    active_since: float | None = None
    fired_at: float | None = None
    last_breach_at: float | None = None
    last_notified_at: float | None = None


@dataclass(frozen=True)
class Step:
    episode: Episode
    transitions: tuple[State, ...] = ()  # the states entered, in order (pending and firing at once when for=0)
    notice: Notice | None = None


def advance(episode: Episode, *, breaching: bool, now: float, timing: Timing, acknowledged: bool = False,
            silenced: bool = False) -> Step:
    """The episode after one evaluation at `now`."""
    if breaching:
        return _breach(episode, now, timing, acknowledged=acknowledged, silenced=silenced)
    return _no_breach(episode, now, timing, acknowledged=acknowledged, silenced=silenced)


def _breach(episode: Episode, now: float, timing: Timing, *, acknowledged: bool, silenced: bool) -> Step:
    transitions: tuple[State, ...] = ()
    if episode.state not in ACTIVE:
        episode = Episode(state=State.PENDING, active_since=now, last_breach_at=now)
        transitions = (State.PENDING,)
    else:
        last = episode.last_breach_at
        episode = replace(episode, last_breach_at=now if last is None else max(now, last))
    since = episode.active_since if episode.active_since is not None else now
    if episode.state == State.PENDING and now - since >= timing.for_seconds:
        episode = replace(episode, state=State.FIRING, fired_at=now)
        transitions += (State.FIRING,)
    if episode.state == State.FIRING:
        return _maybe_notify(episode, now, timing, transitions, acknowledged=acknowledged, silenced=silenced)
    return Step(episode, transitions)


def _no_breach(episode: Episode, now: float, timing: Timing, *, acknowledged: bool, silenced: bool) -> Step:
    if episode.state == State.PENDING:
        return Step(replace(episode, state=State.RESOLVED), (State.RESOLVED,))
    if episode.state != State.FIRING:
        return Step(episode)
    last_breach = episode.last_breach_at if episode.last_breach_at is not None else now
    if now - last_breach < timing.keep_firing_for_seconds:  # still firing for a while (flapping guard)
        return _maybe_notify(episode, now, timing, (), acknowledged=acknowledged, silenced=silenced)
    notice = Notice.RESOLVED if episode.last_notified_at is not None and not silenced else None
    return Step(replace(episode, state=State.RESOLVED), (State.RESOLVED,), notice)


def _maybe_notify(episode: Episode, now: float, timing: Timing, transitions: tuple[State, ...], *,
                  acknowledged: bool, silenced: bool) -> Step:
    if silenced:
        return Step(episode, transitions)
    if episode.last_notified_at is None:
        return Step(replace(episode, last_notified_at=now), transitions, Notice.FIRING)
    due = timing.repeat_seconds > 0 and now - episode.last_notified_at >= timing.repeat_seconds
    if due and not acknowledged:
        return Step(replace(episode, last_notified_at=now), transitions, Notice.REPEAT)
    return Step(episode, transitions)
