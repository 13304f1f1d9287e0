"""/help lists what this provider can do, the caller's limits, and where to read more."""

from __future__ import annotations

from bot.videoapi.models import Operation
from bot.videoapi.probe import probe

from .botenv import StartBot
from .views import embed, ephemeral_answer, field

MISSING = frozenset(
    {Operation.EXTEND, Operation.EDIT, Operation.CREATE_CHARACTER, Operation.GET_CHARACTER}
)


def listed(message: dict[str, object]) -> set[str]:
    lines = str(embed(message)["description"]).splitlines()
    return {line.split("`")[1] for line in lines}


async def test_help_lists_only_what_the_provider_serves(start_bot: StartBot) -> None:
    env = await start_bot(disabled_operations=MISSING)
    h = env.harness
    await probe(env.bot.api)  # what `videobot check` asks; the client remembers the answers
    assert env.bot.api.unsupported == MISSING
    answer = await ephemeral_answer(h, await h.slash("help", user=h.world.alice))
    shown = listed(answer)
    assert {"/video", "/remix", "/videos list", "/videos download", "/character list"} <= shown
    assert {"/help", "/contest start"} <= shown
    assert not {"/extend", "/edit", "/character create", "/character show"} & shown
    assert field(answer, "Your limits") == (
        "0 of 2 videos in progress at once; more wait in line for a free slot. "
        "`/usage` shows your seconds today and your spend."
    )
    assert "README" in (field(answer, "Read more") or "")
    footer = embed(answer)["footer"]["text"]
    assert footer == (
        "This provider lacks: create character, edit, extend, get character. "
        "Those commands are left out."
    )


async def test_untried_operations_count_as_available(start_bot: StartBot) -> None:
    env = await start_bot(disabled_operations=MISSING, job_seconds=30.0)
    h = env.harness
    card = await h.slash("video", {"prompt": "a cat"}, user=h.world.bob)
    await h.original(card)
    answer = await ephemeral_answer(h, await h.slash("help", user=h.world.bob))
    # Nothing has asked the provider about extensions yet, so /extend is offered.
    assert {"/extend", "/edit", "/character create"} <= listed(answer)
    assert (field(answer, "Your limits") or "").startswith("1 of 2 videos")
    assert "footer" not in embed(answer)
