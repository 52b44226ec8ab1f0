"""Anomaly detector on labelled NAB series, scored with NAB's method, against two baselines.

    python bench/anomaly_bench.py [DATA_DIR]     (default: ../shared/datasets/nab)

DATA_DIR holds NAB-style data: ``<category>/<file>.csv`` (timestamp,value) and a
``labels*.json`` mapping ``<category>/<file>.csv`` to its anomaly windows. In one run:

- our detector (monitoring/anomaly, default settings: nothing here is tuned to these files),
- a static 3-sigma threshold (mean and sigma of the probationary rows, the only rows NAB
  lets a detector learn from without being scored),
- a rolling z-score (|z| against the previous 500 points, as a continuous score),

each scored with NAB's standard profile (monitoring/anomaly/nab_scoring.py: per-detector
threshold optimised over all files, normalised against the null and perfect detectors).
Then our detector at its own alert threshold (what an operator would be paged for):
windows detected and false positives per file. Then replay throughput.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitoring.anomaly import MetricDetector  # noqa: E402
from monitoring.anomaly import nab_scoring as nab  # noqa: E402
from monitoring.anomaly.replay import read_series, replay, write_results  # noqa: E402

ROLLING = 500


def load(directory):
    labels_path = next(iter(sorted(directory.glob("labels*.json"))), None)
    if labels_path is None:
        sys.exit(f"{directory}: no labels*.json")
    labels = json.loads(labels_path.read_text())
    files = []
    for name, windows in sorted(labels.items()):
        rows = read_series(directory / name, allow_unsorted=True)  # NAB's files are replayed in file order
        parsed = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in windows]
        files.append((name, rows, parsed))
    return files


def naive(timestamp):
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


def ours(rows):
    detector = MetricDetector()
    verdicts = [detector.update(row.value, row.timestamp) for row in rows]
    return [v.score for v in verdicts], [v.onset for v in verdicts]


def static_three_sigma(rows):
    values = np.asarray([row.value for row in rows])
    learn = max(2, int(nab.probationary_length(len(values))))
    mean, sigma = float(values[:learn].mean()), float(values[:learn].std()) or 1e-9
    return [1.0 if abs(v - mean) > 3 * sigma else 0.0 for v in values]


def rolling_z(rows):
    values = np.asarray([row.value for row in rows])
    scores = []
    for i, value in enumerate(values):
        past = values[max(0, i - ROLLING): i]
        if len(past) < 30:
            scores.append(0.0)
            continue
        sigma = float(past.std()) or 1e-9
        z = abs(value - float(past.mean())) / sigma
        scores.append(z / (z + 3.0))  # monotone in |z|; 0.5 is 3 sigma
    return scores


def corpus(files, scores_by_file):
    return [nab.LabelledScores(name, [naive(r.timestamp) for r in rows], scores, windows)
            for (name, rows, windows), scores in zip(files, scores_by_file, strict=True)]


def throughput(files, directory):
    """Points per second through the detector alone, and through the whole command path."""
    points = sum(len(rows) for _, rows, _ in files)
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    for _, rows, _ in files:
        detector = MetricDetector()
        for row in rows:
            detector.update(row.value, row.timestamp)
    engine = (points / (time.perf_counter() - started_wall), points / (time.process_time() - started_cpu))
    name, rows, _ = max(files, key=lambda f: len(f[1]))
    with tempfile.TemporaryDirectory() as scratch:
        started = time.perf_counter()  # what `manage.py anomaly replay` does, minus Django's start-up
        write_results(Path(scratch) / "out.csv", replay(read_series(directory / name, allow_unsorted=True)))
        end_to_end = len(rows) / (time.perf_counter() - started)
    return points, engine, end_to_end


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(ROOT.parent / "shared" / "datasets" / "nab"))
    args = parser.parse_args()
    directory = Path(args.data)
    if not directory.is_dir():
        sys.exit(f"{directory}: not a directory (pass the NAB data directory)")
    files = load(directory)
    print(f"{len(files)} files, {sum(len(r) for _, r, _ in files)} points, "
          f"{sum(len(w) for _, _, w in files)} windows, from {directory}")

    ours_scores, ours_onsets = zip(*(ours(rows) for _, rows, _ in files), strict=True)
    contenders = {
        "ours": corpus(files, ours_scores),
        "static 3-sigma": corpus(files, [static_three_sigma(rows) for _, rows, _ in files]),
        f"rolling z ({ROLLING})": corpus(files, [rolling_z(rows) for _, rows, _ in files]),
    }
    results = {name: nab.benchmark(data) for name, data in contenders.items()}
    print("\nNAB standard profile (threshold optimised over all files per detector, as NAB does)")
    print(f"{'detector':18} {'score':>6} {'threshold':>9} {'windows':>8} {'FP rows':>8}")
    for name, result in results.items():
        windows = sum(f.windows for f in result.files)
        detected = sum(f.windows_detected for f in result.files)
        fps = sum(f.fp for f in result.files)
        print(f"{name:18} {result.normalized:6.1f} {result.threshold:9.3f} {detected:>4}/{windows:<3} {fps:8}")
    base = results[f"rolling z ({ROLLING})"].normalized
    print(f"ours / rolling z: {results['ours'].normalized / base:.2f}x" if base > 0 else "")

    print("\nOur detector per file: NAB-optimised threshold | our own alert threshold (0.5, alert onsets)")
    print(f"{'file':41} {'NAB':>6} {'win':>5} {'FP':>4} | {'win':>5} {'FP':>4} {'alerts':>6}")
    fixed = [nab.score_file(series, 0.5) for series in contenders["ours"]]
    for optimised, own, onsets in zip(results["ours"].files, fixed, ours_onsets, strict=True):
        name = Path(optimised.name).name
        print(f"{name:41} {optimised.score:6.2f} {optimised.windows_detected:>2}/{optimised.windows:<2} "
              f"{optimised.fp:4} | {own.windows_detected:>2}/{own.windows:<2} {own.fp:4} {sum(onsets):6}")
    mine = results["ours"]
    own_score = 100 * (sum(f.score for f in fixed) - mine.null) / (mine.perfect - mine.null)
    detected, windows = sum(f.windows_detected for f in fixed), sum(f.windows for f in fixed)
    print(f"at 0.5: NAB {own_score:.1f}, windows {detected}/{windows}, FP rows {sum(f.fp for f in fixed)}")

    points, (wall, cpu), end_to_end = throughput(files, directory)
    print(f"\nthroughput: detector {wall:,.0f} points/s wall ({cpu:,.0f} per CPU second) over {points} points; "
          f"replay with CSV output {end_to_end:,.0f} points/s")
    if not math.isfinite(results["ours"].normalized):
        sys.exit(1)


if __name__ == "__main__":
    main()
