"""Alerts: rules over monitoring's series, their lifecycle, notifications (docs/alerts.md).

Engines without Django: `lifecycle` (pending -> firing -> resolved), `conditions` (hysteresis),
`baseline` (adaptive bands), `forecast` (time to a limit), `scoring` (the anomaly scorer
interface and its default), `payloads` (webhook bodies), `templates` (safe messages).
The Django side: `models`, `sources` (what a rule reads), `services`, `selectors`, `notify`,
`tasks`, `exporter` (alerts_firing on /metrics), `admin`.
"""
