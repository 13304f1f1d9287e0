from __future__ import annotations

from dataclasses import replace

from bot.spending.limits import Access, Ask, Limits, Refuse, Start, Usage, Wait, decide, denied

LIMITS = Limits(
    jobs_per_user=2,
    jobs_per_guild=5,
    daily_seconds_per_user=120,
    daily_seconds_per_guild=600,
    monthly_budget_micros=50_000_000,
)
IDLE = Usage(0, 0, 0, 0, 0)
ASK = Ask(8, 800_000)


def test_exactly_at_each_limit_starts_and_one_over_is_refused() -> None:
    at = Usage(112, 592, 49_200_000, 0, 0)
    assert decide(LIMITS, at, ASK) == Start()
    assert decide(LIMITS, replace(at, user_seconds_today=113), ASK) == Refuse(
        "user_seconds", allowed=120, left=7, asked=8
    )
    assert decide(LIMITS, replace(at, guild_seconds_today=593), ASK) == Refuse(
        "guild_seconds", allowed=600, left=7, asked=8
    )
    assert decide(LIMITS, replace(at, guild_micros_month=49_200_001), ASK) == Refuse(
        "budget", allowed=50_000_000, left=799_999, asked=800_000
    )


def test_spent_past_the_limit_leaves_nothing() -> None:
    over = replace(IDLE, guild_micros_month=60_000_000)
    assert decide(LIMITS, over, ASK) == Refuse("budget", 50_000_000, 0, 800_000)


def test_a_full_slot_waits_and_a_refusal_wins_over_waiting() -> None:
    assert decide(LIMITS, replace(IDLE, user_running=2), ASK) == Wait(1)
    assert decide(LIMITS, replace(IDLE, guild_running=5, waiting=3), ASK) == Wait(4)
    assert decide(LIMITS, replace(IDLE, line_waits_for_guild=True, waiting=1), ASK) == Wait(2)
    full_and_broke = replace(IDLE, user_running=2, user_seconds_today=120)
    assert isinstance(decide(LIMITS, full_and_broke, ASK), Refuse)


def test_no_limit_is_no_limit() -> None:
    none = Limits(None, None, None, None, None)
    huge = Usage(10**9, 10**9, 10**15, 10**6, 10**6)
    assert decide(none, huge, ASK) == Start()


def test_who_may_generate() -> None:
    everyone = Access()
    assert denied(everyone, 1, (10,), frozenset()) is None
    rules = Access(channels=frozenset({10}), roles=frozenset({7}), blocked=frozenset({2}))
    assert denied(rules, 2, (10,), frozenset({7})) == "blocked"
    assert denied(rules, 1, (11,), frozenset({7})) == "channel"
    # A thread of an allowed channel is allowed.
    assert denied(rules, 1, (99, 10), frozenset({7})) is None
    assert denied(rules, 1, (10,), frozenset({8})) == "role"


def test_the_bot_wide_budget_refuses_after_the_servers_own() -> None:
    capped = replace(LIMITS, bot_monthly_budget_micros=100_000_000)
    # Other servers spent the bot's month: this one's own budget has room, the bot's has not.
    spent = replace(IDLE, bot_micros_month=99_500_000)
    assert decide(capped, spent, ASK) == Refuse(
        "bot_budget", allowed=100_000_000, left=500_000, asked=800_000
    )
    assert decide(capped, replace(spent, bot_micros_month=99_200_000), ASK) == Start()
    # The server's own refusal comes first: it says what the server can change.
    both = replace(spent, guild_micros_month=50_000_000)
    assert decide(capped, both, ASK) == Refuse("budget", 50_000_000, 0, 800_000)
