"""Hierarchical cache: an in-process L1 in front of Redis (L2), kept coherent across processes.

The engines (`l1`, `codec`, `l2`, `coherence`, `tiered`, `stampede`, `keys`) are plain Python
with no Django imports; `backend`, `decorators`, `middleware`, `selectors` and `services` are
the Django layer. Design notes: docs/cache.md.
"""
