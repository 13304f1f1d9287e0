from __future__ import annotations

import pytest

from bot.tracker.budget import RequestBudget
from bot.videoapi.models import ResponseMeta

T0 = 1_000.0


def spend_all(budget: RequestBudget, now: float) -> int:
    spent = 0
    while budget.try_spend(now):
        spent += 1
    return spent


def test_a_burst_of_a_few_seconds_then_the_sustained_rate() -> None:
    budget = RequestBudget(per_minute=300)  # 5 a second, 5 s of burst
    assert spend_all(budget, T0) == 25
    assert budget.ready_at(T0) == pytest.approx(T0 + 0.2, abs=2e-3)
    assert spend_all(budget, T0 + 1) == 5
    # Idle time refills no further than the burst.
    assert budget.available(T0 + 600) == 25


def test_a_slow_budget_still_allows_one_request() -> None:
    budget = RequestBudget(per_minute=6)
    assert spend_all(budget, T0) == 1
    assert budget.ready_at(T0) == pytest.approx(T0 + 10, abs=2e-3)


def test_the_providers_remaining_count_caps_what_goes_until_its_reset() -> None:
    budget = RequestBudget(per_minute=300)
    budget.observe(ResponseMeta(ratelimit_remaining_requests=3, ratelimit_reset_requests_s=2.0), T0)
    assert spend_all(budget, T0) == 3
    assert budget.ready_at(T0) == pytest.approx(T0 + 2)
    # After the provider's window, our own rate alone decides again (22 left, refilled).
    assert budget.available(T0 + 2) == 25


def test_none_left_means_none_until_the_reset() -> None:
    budget = RequestBudget(per_minute=300)
    budget.observe(ResponseMeta(ratelimit_remaining_requests=0, ratelimit_reset_requests_s=6.0), T0)
    assert budget.available(T0 + 5.9) == 0
    assert budget.ready_at(T0) == pytest.approx(T0 + 6)
    assert budget.available(T0 + 6) > 0


def test_retry_after_stops_every_request_until_then() -> None:
    budget = RequestBudget(per_minute=300)
    budget.observe(ResponseMeta(retry_after_s=20.0), T0)
    assert budget.available(T0 + 19) == 0
    assert budget.ready_at(T0) == pytest.approx(T0 + 20)
    assert budget.available(T0 + 20) == 25


def test_a_rate_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="above 0"):
        RequestBudget(per_minute=0)
