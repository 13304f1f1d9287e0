"""What the spending limits say, worded at the edge from the errors the jobs core raises."""

from __future__ import annotations

import datetime

import pytest

from bot.errors import LimitReached, NotAllowed, SpendingRefused, UserError
from bot.interactions.tree import describe, explain
from bot.spending.limits import DM_SCOPE, Access, Denial, Refuse

GUILD = 100
NOW = datetime.datetime(2026, 12, 4, 12, 0, tzinfo=datetime.UTC).timestamp()
TOMORROW = "<t:1796428800:R>"
NEXT_MONTH = "<t:1798761600:R>"


@pytest.mark.parametrize(
    ("refused", "scope", "text"),
    [
        pytest.param(
            Refuse("user_seconds", 8, 4, 12),
            GUILD,
            "That video needs 12 s, and you have 4 s left of your 8 s for today in this "
            f"server. Your seconds reset {TOMORROW}.",
            id="user-seconds",
        ),
        pytest.param(
            Refuse("user_seconds", 8, 0, 4),
            DM_SCOPE,
            "That video needs 4 s, and you have 0 s left of your 8 s for today in direct "
            f"messages. Your seconds reset {TOMORROW}.",
            id="user-seconds-in-a-dm",
        ),
        pytest.param(
            Refuse("guild_seconds", 1200, 8, 12),
            GUILD,
            "That video needs 12 s, and this server has 8 s left of its 1,200 s for today. "
            f"They reset {TOMORROW}.",
            id="guild-seconds",
        ),
        pytest.param(
            Refuse("budget", 5_000_000, 400_000, 1_200_000),
            GUILD,
            "That video costs $1.20, and this server has $0.40 left of its $5.00 budget for "
            f"this month. The budget resets {NEXT_MONTH}.",
            id="guild-budget",
        ),
        pytest.param(
            Refuse("bot_budget", 50_000_000, 0, 1_200_000),
            GUILD,
            "That video costs $1.20, and the bot has $0.00 left of its budget for this month, "
            f"shared by every server it is in. The budget resets {NEXT_MONTH}.",
            id="bot-budget",
        ),
    ],
)
def test_a_refusal_says_what_is_left_and_when_it_resets(
    refused: Refuse, scope: int, text: str
) -> None:
    error = SpendingRefused(refused, scope, NOW)
    # Still a limit reached, for whoever catches those.
    assert isinstance(error, LimitReached)
    assert describe(error) == text


@pytest.mark.parametrize(
    ("reason", "text"),
    [
        ("blocked", "You can't make videos in this server."),
        ("channel", "Videos can be made in this server only in <#10>, <#11>."),
        ("role", "Making videos in this server needs one of these roles: <@&5>, <@&7>."),
    ],
)
def test_who_may_not_generate_is_told_where_and_with_which_roles(reason: Denial, text: str) -> None:
    access = Access(channels=frozenset({11, 10}), roles=frozenset({7, 5}))
    assert describe(NotAllowed(reason, access)) == text


def test_explain_words_a_users_error_and_gives_a_bug_an_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert explain(UserError("Pick a video."), "starting #1") == "Pick a video."
    words = explain(RuntimeError("boom"), "starting #1")
    assert words.startswith("Something went wrong on my side.")
    assert "in starting #1" in caplog.text
