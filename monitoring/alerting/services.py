"""Alert writes: evaluate the rules (after every collection), acknowledge, silence.

Evaluation is safe when two workers run it at once: each rule is evaluated under a lock on
its row (PostgreSQL: `SELECT ... FOR UPDATE SKIP LOCKED`, so a second worker skips a rule
being evaluated instead of waiting; SQLite serialises writers anyway), and a rule already
evaluated at the same moment or later is skipped. The lifecycle itself is a pure function of
the stored alert and the time (lifecycle.py), so a repeated evaluation changes nothing.
Transitions write a history row; those that notify are dispatched after commit (notify.py).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from monitoring import live
from monitoring.alerting import lifecycle, notify
from monitoring.alerting.judge import Judgement, judge, source_of
from monitoring.alerting.models import Alert, AlertEvent, AlertRule, AlertSilence
from monitoring.alerting.sources import Context, Reading, SourceError
from tecnocursos.core.exceptions import ApplicationError
from tecnocursos.core.types import User

logger = logging.getLogger(__name__)

ACTIVE_STATES = (Alert.State.PENDING, Alert.State.FIRING)
MAX_SILENCE = timedelta(days=365)


def fingerprint(rule_id: int, labels: dict[str, str]) -> str:
    """One alert per rule and label set at a time (Alertmanager's fingerprint)."""
    return hashlib.sha256(json.dumps([rule_id, sorted(labels.items())]).encode()).hexdigest()[:32]


# --- evaluation ----------------------------------------------------------------------------------


def rules_evaluate(*, now: datetime | None = None, rule_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Evaluate every enabled rule (or those given) at `now`; counts per outcome."""
    context = Context(now=now or timezone.now())
    if rule_ids is None:
        rule_ids = AlertRule.objects.filter(enabled=True).order_by("id").values_list("id", flat=True)
    outcomes: Counter[str] = Counter()
    for rule_id in list(rule_ids):
        outcomes[rule_evaluate(rule_id=rule_id, context=context)] += 1
    return dict(outcomes)


def rule_evaluate(*, rule_id: int, context: Context) -> str:
    """evaluated, skipped (already evaluated at this time or later), busy (another worker is evaluating
    it), disabled, or failed."""
    try:
        with transaction.atomic():
            return _evaluate_locked(rule_id, context)
    except Exception as exc:  # one broken rule (a bad template, a scorer's bug) must not stop the others
        logger.exception("alerts: rule %s failed to evaluate", rule_id)
        AlertRule.objects.filter(id=rule_id).update(last_error=f"{type(exc).__name__}: {exc}"[:1000])
        return "failed"


def _locked_rule(rule_id: int) -> AlertRule | None:
    rules = AlertRule.objects.filter(id=rule_id, enabled=True)
    if connection.features.has_select_for_update_skip_locked:
        return rules.select_for_update(skip_locked=True).first()
    return rules.first()


def _evaluate_locked(rule_id: int, context: Context) -> str:
    now = context.now
    rule = _locked_rule(rule_id)
    if rule is None:
        return "busy" if AlertRule.objects.filter(id=rule_id, enabled=True).exists() else "disabled"
    if rule.last_evaluated_at is not None and rule.last_evaluated_at >= now:
        return "skipped"
    active = {a.fingerprint: a for a in Alert.objects.select_for_update().filter(rule=rule, state__in=ACTIVE_STATES)}
    judged, error = _judge_all(rule, context, active)
    breaching = any(judgement.breaching for _, judgement in judged.values())
    silenced = _silences(rule, now) if active or breaching else set()  # nothing can change otherwise
    for print_ in sorted(set(judged) | set(active)):
        reading, judgement = judged.get(print_, (None, None))
        _advance(rule, print_, reading, judgement, active.get(print_), now,
                 silenced=print_ in silenced or "" in silenced)
    series = rule.state.get("series", {})
    rule.state["series"] = {key: value for key, value in series.items() if key in judged}
    rule.last_evaluated_at, rule.last_error = now, error
    rule.save(update_fields=["last_evaluated_at", "last_error", "state"])
    return "evaluated"


def _judge_all(rule: AlertRule, context: Context, active: dict[str, Alert]
               ) -> tuple[dict[str, tuple[Reading, Judgement]], str]:
    try:
        readings = source_of(rule).current(context, rule.window_seconds)
    except SourceError as exc:
        return {}, str(exc)[:1000]
    judged: dict[str, tuple[Reading, Judgement]] = {}
    error = ""
    for reading in readings:
        print_ = fingerprint(rule.id, reading.labels)
        try:
            judged[print_] = (reading, judge(rule, reading, fingerprint=print_, active=print_ in active,
                                             context=context))
        except SourceError as exc:
            error = str(exc)[:1000]
    return judged, error


def _silences(rule: AlertRule, now: datetime) -> set[str]:
    """Fingerprints silenced now ("" silences the whole rule)."""
    return set(AlertSilence.objects.filter(rule=rule, starts_at__lte=now, ends_at__gt=now)
               .values_list("fingerprint", flat=True))


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def _at(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=UTC)


def _episode(alert: Alert | None) -> lifecycle.Episode:
    if alert is None:
        return lifecycle.Episode()
    return lifecycle.Episode(state=lifecycle.State(alert.state), active_since=_ts(alert.started_at),
                             fired_at=_ts(alert.fired_at), last_breach_at=_ts(alert.last_breach_at),
                             last_notified_at=_ts(alert.last_notified_at))


def _timing(rule: AlertRule) -> lifecycle.Timing:
    return lifecycle.Timing(for_seconds=rule.for_seconds, keep_firing_for_seconds=rule.keep_firing_for_seconds,
                            repeat_seconds=rule.repeat_interval_seconds)


def _advance(rule: AlertRule, print_: str, reading: Reading | None, judgement: Judgement | None, alert: Alert | None,
             now: datetime, *, silenced: bool) -> None:
    step = lifecycle.advance(_episode(alert), breaching=bool(judgement and judgement.breaching), now=now.timestamp(),
                             timing=_timing(rule), acknowledged=bool(alert and alert.acknowledged_at),
                             silenced=silenced)
    if alert is None:
        if not step.transitions or reading is None:
            return
        alert = Alert(rule=rule, fingerprint=print_, labels={**rule.labels, **reading.labels}, metric=rule.metric,
                      severity=rule.severity, started_at=now)
    previous = alert.state if alert.pk else ""
    _apply(alert, rule, step.episode, judgement, now)
    alert.save()
    _record(alert, step, previous, now)


def _apply(alert: Alert, rule: AlertRule, episode: lifecycle.Episode, judgement: Judgement | None,
           now: datetime) -> None:
    if episode.state != lifecycle.State.INACTIVE:
        alert.state = str(episode.state)
    alert.severity = rule.severity
    if judgement is not None:
        alert.value, alert.threshold, alert.details = judgement.value, judgement.threshold, judgement.details
        alert.message = judgement.message[:1000]
    alert.fired_at = _at(episode.fired_at)
    alert.last_breach_at = _at(episode.last_breach_at)
    alert.last_notified_at = _at(episode.last_notified_at)
    alert.last_evaluated_at = now
    if alert.state == Alert.State.RESOLVED and alert.resolved_at is None:
        alert.resolved_at = now


def _record(alert: Alert, step: lifecycle.Step, previous: str, now: datetime) -> None:
    """A history row per transition; the one that notifies (or a repeat) is dispatched after commit."""
    events = []
    for state in step.transitions:
        events.append(AlertEvent(alert=alert, kind=str(state), at=now, from_state=previous, to_state=str(state),
                                 value=alert.value, message=alert.message))
        previous = str(state)
    if step.notice == lifecycle.Notice.REPEAT or (step.notice == lifecycle.Notice.FIRING
                                                  and lifecycle.State.FIRING not in step.transitions):
        kind = AlertEvent.Kind.REPEAT if step.notice == lifecycle.Notice.REPEAT else AlertEvent.Kind.NOTIFIED
        events.append(AlertEvent(alert=alert, kind=kind, at=now, from_state=alert.state, to_state=alert.state,
                                 value=alert.value, message=alert.message))
    if step.notice is not None and events:
        events[-1].notified = True
    for event in events:
        event.save()
        if event.notified:
            notify.event_queue(event_id=event.id)
    if step.transitions:
        live.alert_push(alert, change=str(step.transitions[-1]))


# --- operators -------------------------------------------------------------------------------------


def alert_acknowledge(*, alert: Alert, user: User, comment: str = "") -> Alert:
    """Stop the repeats of an active alert (it still resolves and notifies that)."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(id=alert.id)
        if not alert.is_active:
            raise ApplicationError("This alert is resolved: there is nothing to acknowledge.", status_code=409)
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by = timezone.now(), user
            alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
            AlertEvent.objects.create(alert=alert, kind=AlertEvent.Kind.ACKNOWLEDGED, at=alert.acknowledged_at,
                                      from_state=alert.state, to_state=alert.state, actor=user,
                                      message=comment[:1000])
            live.alert_push(alert, change="acknowledged")
    return alert


def silence_create(*, rule: AlertRule, fingerprint: str, ends_at: datetime, user: User | None, comment: str = "",
                   starts_at: datetime | None = None) -> AlertSilence:
    now = timezone.now()
    starts_at = starts_at or now
    if ends_at <= max(now, starts_at):
        raise ApplicationError("A silence must end in the future (and after it starts).")
    if ends_at - starts_at > MAX_SILENCE:
        raise ApplicationError("A silence lasts a year at most.")
    return AlertSilence.objects.create(rule=rule, fingerprint=fingerprint, starts_at=starts_at, ends_at=ends_at,
                                       created_by=user, comment=comment[:500])


def alert_silence(*, alert: Alert, user: User, until: datetime, comment: str = "") -> AlertSilence:
    """Mute this alert's fingerprint until `until`: its notifications, and those of a recurrence."""
    with transaction.atomic():
        silence = silence_create(rule=alert.rule, fingerprint=alert.fingerprint, ends_at=until, user=user,
                                 comment=comment)
        AlertEvent.objects.create(alert=alert, kind=AlertEvent.Kind.SILENCED, at=silence.starts_at,
                                  from_state=alert.state, to_state=alert.state, actor=user,
                                  message=f"until {until.isoformat()}" + (f": {comment}" if comment else ""))
    return silence


def alert_unsilence(*, alert: Alert, user: User) -> int:
    """End the silences of this alert's fingerprint now; how many were active."""
    now = timezone.now()
    with transaction.atomic():
        ended = AlertSilence.objects.filter(rule=alert.rule_id, fingerprint=alert.fingerprint, starts_at__lte=now,
                                            ends_at__gt=now).update(ends_at=now)
        if ended:
            AlertEvent.objects.create(alert=alert, kind=AlertEvent.Kind.UNSILENCED, at=now, from_state=alert.state,
                                      to_state=alert.state, actor=user)
    return ended


def silences_end(*, rule: AlertRule, fingerprint: str | None = None) -> int:
    """Admin: end a rule's active silences (those of one fingerprint, or all)."""
    now = timezone.now()
    silences = AlertSilence.objects.filter(rule=rule, ends_at__gt=now)
    if fingerprint is not None:
        silences = silences.filter(Q(fingerprint=fingerprint))
    return silences.update(ends_at=now)
