"""Analytics fixtures: clean monitoring state (Redis keys, the recorder) and no cached reports."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.monitoring.conftest import clean_monitoring_state, flush  # noqa: F401 (autouse: Redis keys, recorder)


@pytest.fixture(autouse=True)
def no_cached_reports() -> Iterator[None]:
    # Report keys are the period's bounds: two tests in the same minute would share them.
    from tecnocursos.cache.tags import ANALYTICS_CONTENT, ANALYTICS_PERFORMANCE, ANALYTICS_USERS, invalidate

    tags = [ANALYTICS_CONTENT, ANALYTICS_PERFORMANCE, ANALYTICS_USERS]
    invalidate(tags)
    yield
    invalidate(tags)
