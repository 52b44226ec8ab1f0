"""A multivariate detector: Isolation Forest and a robust Mahalanobis distance.

Each point is a vector (by default CPU, memory, p95 latency, request rate, error rate).
Both models are trained on the past window only (robustly standardised per metric) and
retrained every ``retrain_every`` points:

- the Isolation Forest isolates points unlike any seen (several normal regimes are fine);
- the Mahalanobis distance, with a covariance estimated on the window's inlying points,
  sees broken correlations that the forest's axis-parallel splits barely notice
  (latency up while the request rate is as usual).

Each model's score is calibrated against its scores on the points before (calibration.py);
the point's evidence is the mean of the two (both must be fairly sure, or one very sure)
and an alert needs it to persist (persistence.py), as in the per-metric detector. Each
verdict lists the metrics by how far each is from what the others predict,
``(P z)_j / sqrt(P_jj)`` with ``P`` the precision matrix: latency may be within its own
usual range and still be the metric that broke ranks, which is what an operator needs first.

The fitted forest is not part of the state: the state keeps the training window and the
seed, and a restored detector refits the identical forest (Isolation Forest is
deterministic for a given seed and data).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.ensemble import IsolationForest

from .calibration import TailCalibrator
from .models import robust_location_scale
from .persistence import Persistence
from .ring import FloatArray, Ring

FEATURES = ("cpu", "memory", "latency_p95", "request_rate", "error_rate")
MODELS = ("forest", "mahalanobis")
INLIER_Z = 5.0  # points with a metric further than this are left out of the covariance
RIDGE = 1e-3  # keeps the covariance invertible when a metric is constant
STATE_VERSION = 1
EULER_GAMMA = 0.5772156649015329


@dataclass(frozen=True)
class MultivariateConfig:
    features: tuple[str, ...] = FEATURES
    window: int = 2016  # training points (a week of 5-minute collections)
    min_train: int = 128
    retrain_every: int = 288  # a day of 5-minute collections
    trees: int = 100
    max_samples: int = 256
    seed: int = 0
    relative_floor: float = 1e-3
    calibration_history: int = 1000
    cusum_k: float = 2.0  # as the per-metric detector
    cusum_h: float = 2.0
    clear_points: int = 12

    def __post_init__(self) -> None:
        if len(self.features) < 2 or len(set(self.features)) != len(self.features):
            raise ValueError("features must name at least two distinct metrics")
        if not 2 <= self.min_train <= self.window:
            raise ValueError("min_train must be between 2 and window")
        if min(self.retrain_every, self.trees, self.max_samples, self.calibration_history, self.clear_points) < 1:
            raise ValueError("retrain_every, trees, max_samples, calibration_history and clear_points must be >= 1")
        if self.cusum_h <= 0.0 or self.cusum_k < 0.0:
            raise ValueError("cusum_h must be positive and cusum_k not negative")


@dataclass(frozen=True)
class MultivariateVerdict:
    score: float  # onset score in [0, 1], as the per-metric detector's
    alert: bool
    onset: bool
    evidence: float = 0.0
    models: dict[str, float] = field(default_factory=dict)
    # How far each metric is from what the others predict (in sigmas), furthest first.
    deviations: dict[str, float] = field(default_factory=dict)
    warming: bool = False


def average_path_length(samples: FloatArray) -> FloatArray:
    """Expected path length of an unsuccessful search in a BST of ``samples`` nodes."""
    n = np.asarray(samples, dtype=np.float64)
    result = np.zeros_like(n)
    result[n == 2] = 1.0
    big = n > 2
    result[big] = 2.0 * (np.log(n[big] - 1.0) + EULER_GAMMA) - 2.0 * (n[big] - 1.0) / n[big]
    return result


class CompiledForest:
    """A fitted IsolationForest as flat arrays: one point scored in a few numpy steps.

    sklearn's ``score_samples`` costs milliseconds per call for one row; walking all
    trees at once, one level per step, costs tens of microseconds and gives the same
    score (a test checks it).
    """

    def __init__(self, forest: IsolationForest) -> None:
        trees = [estimator.tree_ for estimator in forest.estimators_]
        size = max(tree.node_count for tree in trees)
        count = len(trees)
        self.feature = np.zeros((count, size), dtype=np.intp)
        self.threshold = np.zeros((count, size), dtype=np.float64)
        self.left = np.zeros((count, size), dtype=np.intp)
        self.right = np.zeros((count, size), dtype=np.intp)
        self.leaf_value = np.zeros((count, size), dtype=np.float64)
        self.is_leaf = np.ones((count, size), dtype=bool)
        self.depth = 0
        for t, tree in enumerate(trees):
            nodes = tree.node_count
            left, right = tree.children_left, tree.children_right
            depth = np.zeros(nodes, dtype=np.float64)
            for node in range(nodes):  # children always come after their parent
                if left[node] != -1:
                    depth[left[node]] = depth[right[node]] = depth[node] + 1.0
            leaves = left == -1
            self.is_leaf[t, :nodes] = leaves
            self.feature[t, :nodes] = np.where(leaves, 0, tree.feature)
            self.threshold[t, :nodes] = tree.threshold
            self.left[t, :nodes] = np.where(leaves, np.arange(nodes), left)
            self.right[t, :nodes] = np.where(leaves, np.arange(nodes), right)
            self.leaf_value[t, :nodes] = depth + average_path_length(tree.n_node_samples.astype(np.float64))
            self.depth = max(self.depth, int(depth.max()))
        self.rows = np.arange(count)
        self.normaliser = count * float(average_path_length(np.asarray([forest.max_samples_], dtype=np.float64))[0])

    def anomaly_score(self, point: FloatArray) -> float:
        """sklearn's ``-score_samples``: 2^(-mean path length / c(max_samples)), in (0, 1]."""
        x = point.astype(np.float32).astype(np.float64)  # trees compare float32 features
        node = np.zeros(len(self.rows), dtype=np.intp)
        for _ in range(self.depth):
            go_left = x[self.feature[self.rows, node]] <= self.threshold[self.rows, node]
            node = np.where(go_left, self.left[self.rows, node], self.right[self.rows, node])
        total = float(self.leaf_value[self.rows, node].sum())
        return 1.0 if self.normaliser == 0.0 else float(2.0 ** (-total / self.normaliser))


class MultivariateDetector:
    def __init__(self, config: MultivariateConfig | None = None) -> None:
        self.config = config or MultivariateConfig()
        cfg = self.config
        # Room for the last training window as well as the points seen since it was used.
        self._history = [Ring(cfg.window + cfg.retrain_every) for _ in cfg.features]
        self._count = 0
        self._fitted_at: int | None = None  # count when the forest was last trained
        self._forest: CompiledForest | None = None
        self._center: FloatArray = np.zeros(len(cfg.features))
        self._scale: FloatArray = np.ones(len(cfg.features))
        self._precision: FloatArray = np.eye(len(cfg.features))
        self._calibrators = {name: TailCalibrator(capacity=cfg.calibration_history) for name in MODELS}
        self._persistence = Persistence(k=cfg.cusum_k, h=cfg.cusum_h, clear=cfg.clear_points)

    @property
    def count(self) -> int:
        return self._count

    def update(self, values: Mapping[str, float]) -> MultivariateVerdict:
        """Score one vector of the configured metrics from the past, then learn it."""
        point = self._vector(values)
        cfg = self.config
        due = self._fitted_at is None or self._count - self._fitted_at >= cfg.retrain_every
        if due and self._count >= cfg.min_train:
            self._fit(self._training_window(since=0))
            self._fitted_at = self._count
        if self._forest is None:
            verdict = MultivariateVerdict(score=0.0, alert=False, onset=False, warming=True)
        else:
            z = (point - self._center) / self._scale
            surprises = {"forest": self._forest.anomaly_score(z), "mahalanobis": float(z @ self._precision @ z)}
            models = {}
            for name, surprise in surprises.items():
                models[name] = self._calibrators[name].evidence(surprise)
                self._calibrators[name].add(surprise)
            evidence = sum(models.values()) / len(models)
            score, alert, onset = self._persistence.step(evidence)
            conditional = (self._precision @ z) / np.sqrt(np.diag(self._precision))
            order = np.argsort(-np.abs(conditional))
            deviations = {cfg.features[i]: float(conditional[i]) for i in order}
            verdict = MultivariateVerdict(score=score, alert=alert, onset=onset, evidence=evidence,
                                          models=models, deviations=deviations)
        for ring, value in zip(self._history, point, strict=True):
            ring.append(float(value))
        self._count += 1
        return verdict

    def _vector(self, values: Mapping[str, float]) -> FloatArray:
        missing = [name for name in self.config.features if name not in values]
        if missing:
            raise ValueError(f"missing metrics: {', '.join(missing)}")
        point = np.asarray([float(values[name]) for name in self.config.features], dtype=np.float64)
        if not np.all(np.isfinite(point)):
            raise ValueError("metric values must be finite numbers")
        return point

    def _training_window(self, since: int) -> FloatArray:
        """The ``window`` points that preceded the last ``since`` points."""
        stacked = np.column_stack([ring.values() for ring in self._history])
        end = len(stacked) - since
        return stacked[max(0, end - self.config.window): end]

    def _fit(self, window: FloatArray) -> None:
        cfg = self.config
        stats = [robust_location_scale(window[:, i]) for i in range(window.shape[1])]
        self._center = np.asarray([center for center, _ in stats])
        floors = np.maximum(cfg.relative_floor * np.median(np.abs(window), axis=0), 1e-9)
        self._scale = np.maximum(np.asarray([scale for _, scale in stats]), floors)
        forest = IsolationForest(n_estimators=cfg.trees, max_samples=min(cfg.max_samples, len(window)),
                                 random_state=cfg.seed)
        standard = (window - self._center) / self._scale
        forest.fit(standard)
        self._forest = CompiledForest(forest)
        inliers = standard[np.all(np.abs(standard) <= INLIER_Z, axis=1)]
        if len(inliers) <= standard.shape[1]:
            inliers = standard
        covariance = np.atleast_2d(np.cov(inliers, rowvar=False)) + RIDGE * np.eye(standard.shape[1])
        self._precision = np.asarray(np.linalg.inv(covariance), dtype=np.float64)

    def to_state(self) -> dict[str, Any]:
        config = dataclasses.asdict(self.config)
        config["features"] = list(self.config.features)
        return {
            "version": STATE_VERSION,
            "config": config,
            "count": self._count,
            "fitted_at": self._fitted_at,
            "history": [ring.to_state() for ring in self._history],
            "calibrators": {name: c.to_state() for name, c in self._calibrators.items()},
            "persistence": self._persistence.to_state(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> MultivariateDetector:
        try:
            if state.get("version") != STATE_VERSION:
                raise ValueError(f"unsupported multivariate state version {state.get('version')!r}")
            config = dict(state["config"])
            config["features"] = tuple(config["features"])
            detector = cls(MultivariateConfig(**config))
            detector._count = int(state["count"])
            detector._history = [Ring.from_state(ring) for ring in state["history"]]
            if len(detector._history) != len(detector.config.features):
                raise ValueError("history does not match the features")
            for name in MODELS:
                detector._calibrators[name].load_state(state["calibrators"][name])
            detector._persistence.load_state(state["persistence"])
            fitted_at = state["fitted_at"]
            if fitted_at is not None:
                since = detector._count - int(fitted_at)
                if not 0 <= since <= detector.config.retrain_every:
                    raise ValueError("the forest's training point is out of range")
                detector._fit(detector._training_window(since))
                detector._fitted_at = int(fitted_at)
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not a multivariate detector state: {error!r}") from error
        return detector
