"""A row's handoff: the steps the bot took by itself to get a job made, kept as text."""

from __future__ import annotations

from bot.jobs.handoff import AGAIN, Step, add, steps


def test_failover_steps_are_kept_in_order() -> None:
    first = add(None, Step("openrouter", "credits"))
    both = add(first, Step("local", AGAIN))
    assert steps(both) == (Step("openrouter", "credits"), Step("local", AGAIN))


def test_failover_none_or_empty_handoff_has_no_steps() -> None:
    assert steps(None) == ()
    assert steps("") == ()


def test_failover_provider_names_with_separators_survive() -> None:
    name = 'lab; "gpu" = 2'
    assert steps(add(None, Step(name, "not_accepted"))) == (Step(name, "not_accepted"),)
