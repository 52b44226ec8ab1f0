"""Tune the anomaly detector's combination on SYNTHETIC series only.

    python bench/anomaly_tune.py [--seed 101] [--validate 202] [--count 48] [--models window=128,...]

Never reads the NAB files: the detector must generalise to series it has not seen,
so its parameters are chosen here, on labelled synthetic series
(monitoring/anomaly/synthetic.py), and checked on a second synthetic corpus drawn
with another seed. Stage 1 runs the models once per series and keeps each point's
evidence per model; stage 2 replays only the agreement + persistence step for each
candidate setting and scores it with NAB's method (monitoring/anomaly/nab_scoring.py).
Settings are ranked by their mean over both corpora; docs/anomaly.md says what was chosen.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
import time
from datetime import UTC, datetime
from multiprocessing import Pool
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitoring.anomaly import MODELS, DetectorConfig, MetricDetector
from monitoring.anomaly import nab_scoring as nab
from monitoring.anomaly.persistence import Persistence
from monitoring.anomaly.synthetic import SyntheticSeries, corpus


def evidences(args):
    series, config = args
    detector = MetricDetector(config)
    rows = []
    for stamp, value in zip(series.timestamps, series.values, strict=True):
        verdict = detector.update(float(value), stamp)
        rows.append([verdict.models.get(name, 0.0) for name in MODELS])
    return np.asarray(rows)


def combine(matrix, agreement, k, h, clear):
    """The detector's own step 4 and 5 (detector._combine, persistence.Persistence) on cached evidence."""
    persistence = Persistence(k=k, h=h, clear=clear)
    combined = np.sort(matrix, axis=1)[:, -agreement:].mean(axis=1)
    return [persistence.step(float(e))[0] for e in combined]


def labelled(series: SyntheticSeries, scores):
    stamps = [datetime.fromtimestamp(s, UTC).replace(tzinfo=None) for s in series.timestamps]
    windows = [(stamps[a], stamps[b]) for a, b in series.windows]
    return nab.LabelledScores(series.name, stamps, scores, windows)


def evaluate(corpus_series, matrices, agreement, k, h, clear):
    pairs = zip(corpus_series, matrices, strict=True)
    files = [labelled(s, combine(m, agreement, k, h, clear)) for s, m in pairs]
    result = nab.benchmark(files)
    fixed = [nab.score_file(f, 0.5) for f in files]
    detected = sum(r.windows_detected for r in fixed)
    windows = sum(r.windows for r in fixed)
    return result.normalized, result.threshold, detected, windows, sum(r.fp for r in fixed)


def stage1(series, config, pool):
    return pool.map(evidences, [(s, config) for s in series])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=101)
    parser.add_argument("--validate", type=int, default=202)
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--models", default="", help="DetectorConfig overrides, e.g. window=128,shift_short=12")
    args = parser.parse_args()
    overrides = {}
    for item in filter(None, args.models.split(",")):
        key, value = item.split("=")
        field_type = type(getattr(DetectorConfig(), key))
        overrides[key] = field_type(value) if field_type is not bool else value == "true"
    config = dataclasses.replace(DetectorConfig(), **overrides)
    train, test = corpus(args.seed, args.count), corpus(args.validate, args.count)
    with Pool(2) as pool:
        started = time.perf_counter()
        train_m, test_m = stage1(train, config, pool), stage1(test, config, pool)
        points = sum(len(s.values) for s in train + test)
        print(f"stage 1: {points} points in {time.perf_counter() - started:.0f} s; models {overrides or 'default'}")
    grid = itertools.product((2, 3), (1.5, 2.0, 2.5), (1.5, 2.0, 3.0), (6, 12, 24))
    results = []
    for agreement, k, h, clear in grid:
        first = evaluate(train, train_m, agreement, k, h, clear)
        second = evaluate(test, test_m, agreement, k, h, clear)
        results.append(((first[0] + second[0]) / 2, first, second, (agreement, k, h, clear)))
    results.sort(key=lambda row: row[0], reverse=True)
    print("mean | seed A: NAB score, at 0.5: windows, FP | seed B: same | agreement k h clear")
    for mean, first, second, params in results[:8]:
        print(f"  {mean:5.1f} | {first[0]:5.1f} {first[2]}/{first[3]} {first[4]:4} | "
              f"{second[0]:5.1f} {second[2]}/{second[3]} {second[4]:4} | {params}")
    default = DetectorConfig()
    params = (default.agreement, default.cusum_k, default.cusum_h, default.clear_points)
    for name, data, matrices in (("seed A", train, train_m), ("seed B", test, test_m)):
        score, threshold, detected, windows, fps = evaluate(data, matrices, *params)
        print(f"defaults {params} on {name}: {score:.1f} (NAB threshold {threshold:.3f}; "
              f"at 0.5: {detected}/{windows} windows, {fps} FP)")


if __name__ == "__main__":
    main()
