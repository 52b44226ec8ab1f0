"""NAB's scoring, checked against values worked out by hand from NAB's formulas.

S(p) = 2 / (1 + exp(5p)) - 1; a detection at row i of window [l, r] is worth
S(-(r - i + 1) / (r - l + 1)) / S(-1); a false positive j rows after a window of width w
costs 0.11 * S(j / (w - 1)), with no window before it 0.11.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitoring.anomaly import nab_scoring as nab

START = datetime(2024, 1, 1, tzinfo=UTC)


def stamps(n):
    return [START + timedelta(minutes=5 * i) for i in range(n)]


def series(name, scores, windows):
    ts = stamps(len(scores))
    return nab.LabelledScores(name, ts, scores, [(ts[a], ts[b]) for a, b in windows])


def file_score(scores, windows, threshold=0.5):
    return nab.score_file(series("f", scores, windows), threshold, probation_percent=0.0).score


def detections(n, rows):
    return [1.0 if i in rows else 0.0 for i in range(n)]


def test_the_scaled_sigmoid_has_nab_s_landmarks():
    assert nab.scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert nab.scaled_sigmoid(0.0) == 0.0
    assert nab.scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert nab.scaled_sigmoid(3.5) == -1.0


def test_a_detection_on_the_window_s_first_row_earns_the_full_true_positive():
    assert file_score(detections(10, {2}), [(2, 4)]) == pytest.approx(1.0)


def test_a_late_detection_earns_less():
    # Row 4 of [2, 4]: S(-1/3) / S(-1) = 0.682254 / 0.986614
    assert file_score(detections(10, {4}), [(2, 4)]) == pytest.approx(0.691518, abs=1e-6)


def test_only_the_first_detection_in_a_window_counts():
    assert file_score(detections(10, {2, 3, 4}), [(2, 4)]) == pytest.approx(1.0)
    assert file_score(detections(10, {3, 4}), [(2, 4)]) == pytest.approx(0.943742, abs=1e-6)


def test_a_missed_window_costs_the_false_negative_weight():
    assert file_score(detections(10, set()), [(2, 4)]) == -1.0


def test_a_false_positive_before_any_window_costs_the_full_weight():
    assert file_score(detections(10, {0}), [(2, 4)]) == pytest.approx(-1.11)


def test_a_false_positive_soon_after_a_window_costs_less():
    # Row 5 is half a window past [2, 4]: 0.11 * S(0.5) = -0.093311; row 6 a full window: -0.108528.
    assert file_score(detections(10, {5}), [(2, 4)]) == pytest.approx(-1.093311, abs=1e-6)
    assert file_score(detections(10, {6}), [(2, 4)]) == pytest.approx(-1.108528, abs=1e-6)


def test_every_false_positive_row_counts():
    result = nab.score_file(series("f", detections(10, {0, 1}), [(5, 6)]), 0.5, probation_percent=0.0)
    assert result.score == pytest.approx(-1.22)
    assert (result.fp, result.tp, result.fn, result.windows_detected) == (2, 0, 2, 0)
    assert result.false_positive_rows == [0, 1]


def test_a_score_equal_to_the_threshold_is_a_detection():
    assert file_score([0.0, 0.0, 0.7, 0.0], [(2, 3)], threshold=0.7) == pytest.approx(1.0)


def test_the_probationary_period_is_15_percent_capped_at_750_rows():
    assert nab.probationary_length(1000) == 150
    assert nab.probationary_length(4032) == 604
    assert nab.probationary_length(10_000) == 750


def test_detections_in_the_probationary_period_are_not_scored():
    scores = detections(100, {5})  # row 5 of 100 is inside the 15-row probation
    assert nab.score_file(series("f", scores, [(50, 60)]), 0.5).score == -1.0
    assert nab.score_file(series("f", scores, []), 0.5).fp == 0


def corpus():
    # File a: window [2, 4], 0.9 on row 3, a false positive 0.8 on row 7.
    # File b: window [5, 6], a false positive 0.7 on row 0, 0.6 on row 6.
    a = [0.0] * 10
    a[3], a[7] = 0.9, 0.8
    b = [0.0] * 10
    b[0], b[6] = 0.7, 0.6
    return [series("a", a, [(2, 4)]), series("b", b, [(5, 6)])]


def test_the_threshold_is_optimised_over_all_files_at_once():
    # At 0.6: a's window from row 3 (0.943742), its FP 1.5 windows past (-0.109878),
    # b's FP with no window before (-0.11), b's window from its last row (0.859793).
    best = nab.optimize_threshold(corpus(), probation_percent=0.0)
    assert best.threshold == 0.6
    assert best.score == pytest.approx(0.943742 - 0.109878 - 0.11 + 0.859793, abs=1e-6)
    assert (best.tp, best.fp) == (2, 2)


def test_the_score_is_normalised_between_the_null_and_the_perfect_detector():
    # The null detector (0.5 everywhere) is threshold-optimised too. On these short files
    # flagging every row beats flagging none (-2): a: 1 - 2 * 0.11 + 0.11 * (S(.5) + S(1) +
    # S(1.5) + S(2) + S(2.5)) = 0.248294; b: 1 - 5 * 0.11 + 0.11 * (S(1) + S(2) + S(3)) = 0.121482.
    result = nab.benchmark(corpus(), probation_percent=0.0)
    assert result.null == pytest.approx(0.248294 + 0.121482, abs=1e-6)
    assert result.perfect == 2.0
    assert result.normalized == pytest.approx(100 * (1.583657 - 0.369776) / (2 - 0.369776), abs=1e-4)
    assert [f.windows_detected for f in result.files] == [1, 1]
    assert sum(f.score for f in result.files) == pytest.approx(result.raw)


def test_on_long_files_the_null_detector_scores_one_false_negative_per_window():
    files = [series("a", [0.0] * 200, [(100, 109)]), series("b", [0.0] * 200, [(50, 59), (150, 159)])]
    result = nab.benchmark(files)
    assert (result.null, result.raw, result.normalized) == (-3.0, -3.0, 0.0)


def test_scores_by_threshold_starts_with_nothing_detected():
    rows = nab.sweep(corpus()[0], probation_percent=0.0)
    first, *rest = nab.scores_by_threshold(rows)
    assert (first.threshold, first.score, first.tp, first.fp) == (1.1, -1.0, 0, 0)
    assert [r.threshold for r in rest] == [0.9, 0.8, 0.0]


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="3 timestamps but 2 scores"):
        nab.sweep(nab.LabelledScores("f", stamps(3), [0.0, 1.0], []))
