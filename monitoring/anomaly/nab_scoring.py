"""NAB's scoring method, reimplemented (no pandas, no Django).

The Numenta Anomaly Benchmark scores a detector from its per-row anomaly scores
and the labelled anomaly windows of each file. This module follows NAB v1.1's
code (`nab/sweeper.py`, `nab/scorer.py`, `nab/optimizer.py`, `nab/runner.py`):

- **Probationary period**: the first ``min(floor(0.15 * rows), 0.15 * 5000)`` rows of
  a file are not scored (the detector is learning).
- **Per row weight** (``sweep``): a row inside a window is worth
  ``tp * S(p) / S(-1)`` where ``p = -(right - i + 1) / width`` is its position in
  the window and ``S(p) = 2 / (1 + exp(5p)) - 1`` the scaled sigmoid (``S`` is
  ``-1`` beyond ``p = 3``): 1.0 on the window's first row, 0 at its end. A row
  outside every window is worth ``fp * S(distance past the previous window /
  (width - 1))``, or ``-fp`` when no window precedes it: a false positive right
  after a window costs little, one far from any window costs the full ``fp``.
- **A threshold** turns scores into detections (``score >= threshold``). A window
  with no detection costs ``-fn``; one with detections is worth its *earliest*
  detection's weight (the maximum); every detection outside windows adds its
  (negative) weight.
- **Threshold optimisation**: NAB sorts the rows of *all* files by score and sweeps
  every distinct score as the threshold, keeping the one with the best corpus
  total: one threshold per detector and profile, shared by every file.
- **Normalisation**: ``100 * (raw - null) / (perfect - null)`` where ``null`` is
  the (threshold-optimised) score of NAB's null detector (a constant 0.5, which
  ends up detecting nothing: ``-fn`` per scorable window) and ``perfect`` is
  ``tp`` times the number of labelled windows.

Deviations, all on inputs NAB itself rejects or crashes on: window limits are
matched to the first/last row inside them rather than requiring the exact
timestamps; a window holding no row is ignored; a false positive after a window
of one row uses distance / 1 instead of dividing by zero.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

PROBATION_PERCENT = 0.15
PROBATION_CAP_ROWS = 5000  # NAB: the probation never exceeds 15% of 5000 rows


@dataclass(frozen=True)
class CostMatrix:
    """A NAB application profile's weights (all positive, as in NAB's profiles.json)."""

    tp: float = 1.0
    fp: float = 0.11
    fn: float = 1.0


STANDARD = CostMatrix()
REWARD_LOW_FP = CostMatrix(tp=1.0, fp=0.22, fn=1.0)
REWARD_LOW_FN = CostMatrix(tp=1.0, fp=0.11, fn=2.0)

Window = tuple[datetime, datetime]


@dataclass(frozen=True)
class LabelledScores:
    """One file: its timestamps, a detector's scores for them and the labelled windows."""

    name: str
    timestamps: Sequence[datetime]
    scores: Sequence[float]
    windows: Sequence[Window]


@dataclass(frozen=True)
class Row:
    """A scorable row: its anomaly score, its NAB weight and its window (None outside)."""

    score: float
    weight: float
    window: str | None
    index: int


@dataclass(frozen=True)
class ThresholdScore:
    threshold: float
    score: float
    tp: int
    tn: int
    fp: int
    fn: int


@dataclass(frozen=True)
class FileResult:
    name: str
    score: float
    tp: int
    tn: int
    fp: int
    fn: int
    windows: int
    windows_detected: int
    false_positive_rows: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class BenchmarkResult:
    threshold: float
    raw: float
    null: float
    perfect: float
    normalized: float
    files: list[FileResult]


def scaled_sigmoid(position: float) -> float:
    """NAB's reward curve: ~0.987 at -1 (window start), 0 at 0 (window end), -1 beyond 3."""
    if position > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


def probationary_length(rows: int, percent: float = PROBATION_PERCENT) -> float:
    return min(math.floor(percent * rows), percent * PROBATION_CAP_ROWS)


def _window_bounds(timestamps: Sequence[datetime], windows: Sequence[Window]) -> list[tuple[int, int]]:
    """Row index of each window's first and last row (windows holding no row are dropped)."""
    bounds = []
    for start, end in sorted(windows):
        left = bisect.bisect_left(timestamps, start)
        right = bisect.bisect_right(timestamps, end) - 1
        if left <= right:
            bounds.append((left, right))
    return bounds


def sweep(series: LabelledScores, cost: CostMatrix = STANDARD,
          probation_percent: float = PROBATION_PERCENT) -> list[Row]:
    """Every row of one file with its NAB weight (NAB's ``Sweeper.calcSweepScore``).

    Rows in the probationary period are dropped: they are never scored.
    """
    if len(series.timestamps) != len(series.scores):
        raise ValueError(f"{series.name}: {len(series.timestamps)} timestamps but {len(series.scores)} scores")
    bounds = _window_bounds(series.timestamps, series.windows)
    probation = probationary_length(len(series.timestamps), probation_percent)
    max_tp = scaled_sigmoid(-1.0)
    rows: list[Row] = []
    current = 0  # next window to enter
    inside: tuple[int, int] | None = None
    previous: tuple[int, int] | None = None
    for i, score in enumerate(series.scores):
        if inside is None and current < len(bounds) and i == bounds[current][0]:
            inside = bounds[current]
            current += 1
        if inside is not None:
            left, right = inside
            width = right - left + 1
            weight = scaled_sigmoid(-(right - i + 1) / width) * cost.tp / max_tp
            name: str | None = f"{series.name}|{left}"
        else:
            if previous is None:
                unweighted = -1.0
            else:
                left, right = previous
                unweighted = scaled_sigmoid(abs(right - i) / max(right - left, 1))
            weight = unweighted * cost.fp
            name = None
        if i >= probation:
            rows.append(Row(score=float(score), weight=weight, window=name, index=i))
        if inside is not None and i == inside[1]:
            previous, inside = inside, None
    return rows


def scores_by_threshold(rows: Sequence[Row], cost: CostMatrix = STANDARD) -> list[ThresholdScore]:
    """The score at every distinct threshold, from 1.1 (nothing detected) down (NAB's ``calcScoreByThreshold``).

    Rows may come from several files: window names are unique per file.
    """
    ordered = sorted(rows, key=lambda row: row.score, reverse=True)
    windows: dict[str, float] = {row.window: -cost.fn for row in ordered if row.window is not None}
    fp_total = 0.0
    tn = sum(1 for row in ordered if row.window is None)
    fn = len(ordered) - tn
    tp = fp = 0
    threshold = 1.1
    results: list[ThresholdScore] = []
    for row in ordered:
        if row.score != threshold:
            results.append(ThresholdScore(threshold, fp_total + sum(windows.values()), tp, tn, fp, fn))
            threshold = row.score
        if row.window is None:
            fp += 1
            tn -= 1
            fp_total += row.weight
        else:
            tp += 1
            fn -= 1
            windows[row.window] = max(windows[row.window], row.weight)
    results.append(ThresholdScore(threshold, fp_total + sum(windows.values()), tp, tn, fp, fn))
    return results


def optimize_threshold(corpus: Sequence[LabelledScores], cost: CostMatrix = STANDARD,
                       probation_percent: float = PROBATION_PERCENT) -> ThresholdScore:
    """NAB's optimiser: the one threshold that maximises the corpus total (ties: the first, highest)."""
    rows = [row for series in corpus for row in sweep(series, cost, probation_percent)]
    return max(scores_by_threshold(rows, cost), key=lambda result: result.score)


def score_file(series: LabelledScores, threshold: float, cost: CostMatrix = STANDARD,
               probation_percent: float = PROBATION_PERCENT) -> FileResult:
    """One file's NAB score at ``threshold``: detections are rows scoring ``>= threshold``."""
    rows = sweep(series, cost, probation_percent)
    windows: dict[str, float] = {row.window: -cost.fn for row in rows if row.window is not None}
    score = 0.0
    tp = tn = fp = fn = 0
    false_positives: list[int] = []
    detected: set[str] = set()
    for row in rows:
        hit = row.score >= threshold
        if row.window is None:
            if hit:
                fp += 1
                score += row.weight
                false_positives.append(row.index)
            else:
                tn += 1
        elif hit:
            tp += 1
            detected.add(row.window)
            windows[row.window] = max(windows[row.window], row.weight)
        else:
            fn += 1
    score += sum(windows.values())
    return FileResult(name=series.name, score=score, tp=tp, tn=tn, fp=fp, fn=fn, windows=len(windows),
                      windows_detected=len(detected), false_positive_rows=false_positives)


def benchmark(corpus: Sequence[LabelledScores], cost: CostMatrix = STANDARD,
              probation_percent: float = PROBATION_PERCENT) -> BenchmarkResult:
    """Optimise the threshold over the corpus, score each file with it and normalise to 0-100."""
    best = optimize_threshold(corpus, cost, probation_percent)
    files = [score_file(series, best.threshold, cost, probation_percent) for series in corpus]
    raw = sum(result.score for result in files)
    null_corpus = [LabelledScores(s.name, s.timestamps, [0.5] * len(s.timestamps), s.windows) for s in corpus]
    null = optimize_threshold(null_corpus, cost, probation_percent).score
    perfect = cost.tp * sum(len(_window_bounds(s.timestamps, s.windows)) for s in corpus)
    normalized = 100.0 * (raw - null) / (perfect - null) if perfect != null else 0.0
    return BenchmarkResult(threshold=best.threshold, raw=raw, null=null, perfect=perfect,
                           normalized=normalized, files=files)
