"""Safe auto-optimisation (docs/alerts.md): allow-listed cleanup, log compression and pruning,
L1 trimming under memory pressure, Celery pool sizing. Each action is opt-in
(MONITORING_OPTIMIZER_ACTIONS), can run as a dry run, and is recorded in `OptimizationAction`.

Engines without Django: `paths` (which directories may be touched, and walking them without
ever leaving them), `files` (cleanup, compression, pruning), `pool` (how the pool should change).
"""
