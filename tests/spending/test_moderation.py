"""The moderation client against a loopback imitation of OpenAI's endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from pydantic import SecretStr

from bot.spending.moderation import ANSWER_MAX_BYTES, MODERATION_MODEL, Moderation
from bot.spending.rules import ModerationUnavailable
from tests.moderation_imitation import KEY, ModerationImitation


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as http:
        yield http


async def test_prompt_rules_moderation_sends_the_prompt_and_reads_the_verdict(
    session: aiohttp.ClientSession,
) -> None:
    async with ModerationImitation().serving() as imitation:
        moderation = Moderation(session, imitation.url, SecretStr(KEY))
        assert await moderation.flagged("a calm lake") is None
        assert await moderation.flagged("so much GORE") == ("violence/graphic",)
    assert imitation.requests == [
        {"model": MODERATION_MODEL, "input": "a calm lake"},
        {"model": MODERATION_MODEL, "input": "so much GORE"},
    ]


@pytest.mark.parametrize("status", [401, 429, 500, 503])
async def test_prompt_rules_moderation_without_a_verdict_is_unavailable(
    session: aiohttp.ClientSession, status: int
) -> None:
    async with ModerationImitation(fail_with=status).serving() as imitation:
        key = KEY if status != 401 else "sk-wrong"
        moderation = Moderation(session, imitation.url, SecretStr(key))
        with pytest.raises(ModerationUnavailable):
            await moderation.flagged("a calm lake")
        # One request: a member is waiting, and the rule is to refuse, not to retry.
        assert len(imitation.requests) == (0 if status == 401 else 1)


async def test_prompt_rules_moderation_that_hangs_is_given_up(
    session: aiohttp.ClientSession,
) -> None:
    async with ModerationImitation(hang=True).serving() as imitation:
        moderation = Moderation(
            session, imitation.url, SecretStr(KEY), timeout=aiohttp.ClientTimeout(total=0.2)
        )
        with pytest.raises(ModerationUnavailable):
            await moderation.flagged("a calm lake")


async def test_prompt_rules_moderation_unreachable_is_unavailable(
    session: aiohttp.ClientSession,
) -> None:
    async with ModerationImitation().serving() as imitation:
        url = imitation.url
    # Closed: nothing listens there any more.
    with pytest.raises(ModerationUnavailable):
        await Moderation(session, url, SecretStr(KEY)).flagged("a calm lake")


async def test_prompt_rules_moderation_reads_a_verdict_sent_in_pieces_and_bounds_it(
    session: aiohttp.ClientSession,
) -> None:
    padding = {"note": "x" * 200_000}
    async with ModerationImitation(extra=padding).serving() as imitation:
        moderation = Moderation(session, imitation.url, SecretStr(KEY))
        assert await moderation.flagged("so much gore") == ("violence/graphic",)
        imitation.extra = {"note": "x" * (ANSWER_MAX_BYTES + 1)}
        with pytest.raises(ModerationUnavailable):
            await moderation.flagged("a calm lake")
