"""The lifecycle engine alone: pending, `for`, firing, `keep_firing_for`, repeats, ack, silence."""

from __future__ import annotations

from monitoring.alerting.lifecycle import Episode, Notice, State, Timing, advance

TIMING = Timing(for_seconds=60, keep_firing_for_seconds=30, repeat_seconds=600)


def run(steps, timing=TIMING, **flags):
    episode, results = Episode(), []
    for now, breaching in steps:
        step = advance(episode, breaching=breaching, now=now, timing=timing, **flags)
        episode = step.episode
        results.append(step)
    return results


def test_a_breach_is_pending_until_it_held_for_the_duration():
    steps = run([(0, True), (30, True), (59, True), (60, True)])
    assert [s.episode.state for s in steps] == [State.PENDING, State.PENDING, State.PENDING, State.FIRING]
    assert steps[0].transitions == (State.PENDING,) and steps[3].transitions == (State.FIRING,)
    assert [s.notice for s in steps] == [None, None, None, Notice.FIRING]


def test_a_pending_alert_whose_condition_stops_is_resolved_without_a_notification():
    steps = run([(0, True), (30, False)])
    assert steps[1].episode.state == State.RESOLVED
    assert steps[1].notice is None


def test_without_a_duration_it_fires_at_once():
    [step] = run([(0, True)], timing=Timing())
    assert step.transitions == (State.PENDING, State.FIRING)
    assert step.notice == Notice.FIRING


def test_keep_firing_for_holds_a_firing_alert_through_a_short_dip():
    steps = run([(0, True), (60, True), (70, False), (89, False), (90, True), (100, False), (130, False)])
    states = [s.episode.state for s in steps]
    assert states == [State.PENDING, State.FIRING, State.FIRING, State.FIRING, State.FIRING, State.FIRING,
                      State.RESOLVED]
    assert steps[-1].notice == Notice.RESOLVED


def test_it_repeats_at_the_interval_while_firing():
    steps = run([(0, True), (60, True), (600, True), (660, True), (1260, True)])
    assert [s.notice for s in steps] == [None, Notice.FIRING, None, Notice.REPEAT, Notice.REPEAT]


def test_an_acknowledged_alert_does_not_repeat_but_its_resolution_is_notified():
    steps = run([(0, True), (60, True)])
    episode = steps[-1].episode
    repeat = advance(episode, breaching=True, now=2000, timing=TIMING, acknowledged=True)
    assert repeat.notice is None
    resolved = advance(repeat.episode, breaching=False, now=3000, timing=TIMING, acknowledged=True)
    assert resolved.notice == Notice.RESOLVED


def test_a_silenced_alert_fires_quietly_and_notifies_when_the_silence_ends_while_firing():
    steps = run([(0, True), (60, True), (120, True)], silenced=True)
    assert steps[1].episode.state == State.FIRING and all(s.notice is None for s in steps)
    after = advance(steps[-1].episode, breaching=True, now=130, timing=TIMING)
    assert after.notice == Notice.FIRING and after.transitions == ()


def test_a_silenced_alert_resolves_without_a_notification():
    steps = run([(0, True), (60, True)])
    resolved = advance(steps[-1].episode, breaching=False, now=200, timing=TIMING, silenced=True)
    assert resolved.episode.state == State.RESOLVED and resolved.notice is None


def test_evaluating_twice_at_the_same_moment_changes_nothing():
    steps = run([(0, True), (60, True)])
    again = advance(steps[-1].episode, breaching=True, now=60, timing=TIMING)
    assert again.episode == steps[-1].episode and again.transitions == () and again.notice is None


def test_a_resolved_episode_starts_a_new_one_on_the_next_breach():
    steps = run([(0, True), (60, True), (200, False), (300, True)])
    assert steps[2].episode.state == State.RESOLVED
    assert steps[3].episode == Episode(state=State.PENDING, active_since=300, last_breach_at=300)
