"""The fast lane (`make test-fast`, i.e. `-m "not slow"`) keeps out what makes it slow."""

from __future__ import annotations

import pytest

from tests.helpers import SLOW_FIXTURES, is_slow


def test_slow_fixtures_mark_their_tests_slow(request: pytest.FixtureRequest) -> None:
    """Every test collected in this session that needs a slow fixture carries `slow`: in the
    fast lane none is left, in the full run each is marked."""
    items = request.session.items
    assert request.node in items and not is_slow(request.node)
    users = [i for i in items
             if any(name in SLOW_FIXTURES or name == "train_run"
                    for name in getattr(i, "fixturenames", ()))]
    unmarked = [i.nodeid for i in users if not i.get_closest_marker("slow")]
    assert not unmarked, unmarked
