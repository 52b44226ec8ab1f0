"""From evidence per point to alerts: flag only what persists or is overwhelming.

Page's CUSUM on the combined evidence: ``S = max(0, S + e - k)``; an alert starts when
``S >= h``. Ordinary points (``e < k``) drain S, so isolated mild surprises never add
up, while a sustained anomaly or one extreme point crosses ``h``. The alert then stays
on until the evidence has been quiet (``e < k``) for ``clear`` points in a row
(hysteresis); only then can a new alert start.

The score is the onset score ``S / (S + h)``: 0.5 exactly where an alert would start,
and 0 while an alert is already on, since those points are not new anomalies (this is
what NAB's results format rates: one detection per anomaly, as early as possible).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Persistence:
    k: float
    h: float
    clear: int
    cusum: float = 0.0
    firing: bool = False
    quiet: int = 0

    def step(self, evidence: float) -> tuple[float, bool, bool]:
        """(score, alert on, alert started here) for one point's evidence."""
        if self.firing:
            self.quiet = self.quiet + 1 if evidence < self.k else 0
            if self.quiet >= self.clear:
                self.firing = False
                self.quiet = 0
            return 0.0, self.firing, False
        self.cusum = max(0.0, self.cusum + evidence - self.k)
        score = self.cusum / (self.cusum + self.h)
        if self.cusum >= self.h:
            self.firing = True
            self.cusum = 0.0
            return score, True, True
        return score, False, False

    def to_state(self) -> dict[str, Any]:
        return {"cusum": self.cusum, "firing": self.firing, "quiet": self.quiet}

    def load_state(self, state: dict[str, Any]) -> None:
        self.cusum = float(state["cusum"])
        self.firing = bool(state["firing"])
        self.quiet = int(state["quiet"])
