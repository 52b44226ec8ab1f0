"""Bottlenecks and recommendations (docs/alerts.md): what limits the service, with the numbers
that show it and what to do about it.

Engines without Django: `sql_shape` (a statement's shape, literals out), `detect` (findings
from facts). The Django side: `facts` (reads part 1's data), `models`, `services`, `selectors`,
`tasks`, `admin`.
"""
