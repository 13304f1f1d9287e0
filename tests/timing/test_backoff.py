"""The one backoff rule: doubling from a base to a cap, less jitter; a server's wait obeyed."""

from __future__ import annotations

import pytest

from bot.timing import backoff
from bot.timing.backoff import Backoff


def test_without_jitter_it_doubles_up_to_the_cap() -> None:
    rule = Backoff(base_delay=2, max_delay=20, jitter=0)

    assert [rule.delay(retry) for retry in range(6)] == [2, 4, 8, 16, 20, 20]


@pytest.mark.parametrize(("draw", "share"), [(0.0, 1.0), (0.5, 0.875), (0.999, 0.75025)])
def test_jitter_takes_off_at_most_its_share(
    monkeypatch: pytest.MonkeyPatch, draw: float, share: float
) -> None:
    monkeypatch.setattr(backoff.random, "random", lambda: draw)

    assert Backoff(base_delay=1, max_delay=60).delay(3) == pytest.approx(8 * share)


def test_a_huge_retry_count_is_the_cap_not_an_overflow() -> None:
    assert Backoff(base_delay=30, max_delay=600, jitter=0).delay(5000) == 600


def test_a_servers_wait_replaces_the_backoff_up_to_its_limit() -> None:
    rule = Backoff(base_delay=10, max_delay=100, max_retry_after=60, jitter=0)

    assert rule.delay(3, asked=1.5) == 1.5
    assert rule.delay(0, asked=3600) == 60
    assert rule.delay(0, asked=None) == 10
