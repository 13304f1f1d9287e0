"""The error handler's words: what each kind of error tells the user, and None for a bug."""

from __future__ import annotations

import datetime
import logging
import re

import discord
import pytest
from discord import app_commands

from bot.errors import LimitReached, UserError, VideoNotFound
from bot.interactions.tree import bug_text, describe, fitted
from bot.ui.text import MESSAGE_MAX
from bot.videoapi.errors import (
    APIConnectionError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    InvalidParameterError,
    NotFoundError,
    RateLimitError,
    ResponseTooLargeError,
    UnsupportedOperationError,
    VideoAPIError,
)
from bot.videoapi.models import Operation

NOT_ANSWERING = "The video provider is not answering properly right now. Try again shortly."


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (UserError("Pick a shorter prompt."), "Pick a shorter prompt."),
        (LimitReached("Today's limit is spent."), "Today's limit is spent."),
        (
            VideoNotFound(),
            "I can't find that video. Pick one from the list, or check that it was made here.",
        ),
        (
            InvalidParameterError("seconds", "seconds must be 4, 8 or 12"),
            "seconds must be 4, 8 or 12",
        ),
        # Before the 4xx rule: a provider answering 404 on a route lacks it, it did not refuse.
        (
            UnsupportedOperationError(Operation.REMIX, status=404),
            "That is not supported by this provider (remix).",
        ),
        (
            RateLimitError("slow down", status=429),
            "The video provider is rate limiting us right now. Try again in a minute.",
        ),
        (InternalServerError("boom", status=503), NOT_ANSWERING),
        (APIConnectionError("connection reset"), NOT_ANSWERING),
        (APITimeoutError("timed out"), NOT_ANSWERING),
        (
            BadRequestError("size must be 1280x720", status=400),
            "The video provider refused this: size must be 1280x720",
        ),
        (
            NotFoundError("no such video", status=404),
            "The video provider refused this: no such video",
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, BaseException) else "",
)
def test_an_error_the_user_can_act_on_is_put_plainly(error: BaseException, text: str) -> None:
    assert describe(error) == text


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("a bug"),
        KeyError("job"),
        # An API error without a 4xx status is ours or the transport's to explain, not the user's.
        VideoAPIError("odd answer"),
        VideoAPIError("gateway", status=502),
        ResponseTooLargeError("too big", limit=1024),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_bug_has_no_description(error: BaseException) -> None:
    assert describe(error) is None


def test_a_cooldown_names_when_the_command_is_free_again(monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.datetime(2026, 12, 4, 12, 0, tzinfo=datetime.UTC)
    monkeypatch.setattr(discord.utils, "utcnow", lambda: now)
    error = app_commands.CommandOnCooldown(app_commands.Cooldown(1, 30.0), retry_after=12.5)
    at = int(now.timestamp() + 12.5)
    assert describe(error) == f"Slow down: you can use this again <t:{at}:R>."


def test_missing_permissions_are_named_as_discord_names_them() -> None:
    error = app_commands.MissingPermissions(["manage_guild", "manage_messages"])
    assert describe(error) == "You need Manage Server, Manage Messages to do that."


def test_the_bots_missing_permissions_are_listed() -> None:
    error = app_commands.BotMissingPermissions(["embed_links", "attach_files"])
    assert describe(error) == "I need embed_links, attach_files in this channel to do that."


def test_a_server_only_command_in_direct_messages() -> None:
    assert describe(app_commands.NoPrivateMessage()) == "That only works in a server."


def test_any_other_failed_check() -> None:
    assert describe(app_commands.CheckFailure("not an admin")) == "You can't use that here."


def test_a_bug_is_logged_under_the_id_the_user_is_given(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.interactions.tree"):
        text = bug_text(RuntimeError("broken"), "/video")
    found = re.fullmatch(
        r"Something went wrong on my side\. If it keeps happening, quote error `([0-9a-f]{8})`\.",
        text,
    )
    assert found is not None, text
    [record] = caplog.records
    assert record.getMessage() == f"error {found[1]} in /video"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "broken"


def test_a_long_message_is_cut_to_discords_limit() -> None:
    assert fitted("short") == "short"
    exact = "x" * MESSAGE_MAX
    assert fitted(exact) == exact
    cut = fitted("y" * (MESSAGE_MAX + 500))
    assert len(cut) == MESSAGE_MAX
    assert cut.endswith("…")


def test_an_option_discord_did_not_resolve_is_answered_plainly() -> None:
    kind = discord.AppCommandOptionType.channel
    error = app_commands.TransformerError(
        "9" * 5000, kind, app_commands.transformers.IdentityTransformer(kind)
    )
    text = describe(error)
    assert text is not None
    assert text.startswith("I couldn't use `999")
    assert text.endswith("as a channel: pick one from Discord's list.")
    assert len(text) < 120
