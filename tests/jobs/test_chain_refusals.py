"""Jobs through LiteLLM's chains: a retired model, an operation the upstream refuses, and a job
whose status the provider cannot give, each ending plainly with no money held."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.interactions.buttons import result_buttons
from bot.interactions.tree import describe
from bot.storage import Database, SqliteDatabase
from bot.tracker.service import STATUS_UNKNOWN
from bot.ui.card import failure_text
from bot.videoapi.errors import ModelUnavailableError, UnsupportedOperationError
from bot.videoapi.models import Operation
from bot.videoapi.presets import preset

from .test_service import CHANNEL, GUILD, NOW, OWNER, Env, Poster, build_env, page, video_json

VEO = preset("litellm").model_copy(
    update={"models": ("veo-3.1", "veo-3.1-fast"), "price_per_second": {"veo-3.1": 0.4}}
)
# LiteLLM 1.106.12 relaying Google's 404 for a retired id (tests/videoapi/test_chain_refusals.py).
RETIRED = {
    "error": {
        "message": 'litellm.NotFoundError: GeminiException - {"error": {"code": 404, "message": '
        '"models/veo-3.1-generate-preview is not found for API version v1beta, or is not '
        'supported for predictLongRunning.", "status": "NOT_FOUND"}}\n\nLiteLLM: model group '
        "'veo-3.1' failed with the error above. No fallback was attempted.",
        "type": "invalid_request_error",
        "param": None,
        "code": "404",
    }
}
REMIX_REFUSED = {
    "error": {
        "message": "litellm.APIConnectionError: Video remix is not supported by Google Veo. "
        "Please use video_generation() to create new videos.",
        "type": "internal_server_error",
        "param": None,
        "code": "500",
    }
}


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    async with await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db:
        yield db


@pytest.fixture
async def env(database: Database) -> AsyncIterator[Env]:
    made = build_env(database, profile=VEO)
    yield made
    await made.api.aclose()


def created(env: Env, model: str) -> Any:
    return env.jobs.created(
        "a red kite",
        model=model,
        size=None,
        seconds=None,
        owner_id=OWNER,
        guild_id=GUILD,
        channel_id=CHANNEL,
    )


async def test_a_retired_model_ends_the_job_releases_it_and_is_left_off(env: Env) -> None:
    create = env.router.post("/videos").respond(404, json=RETIRED)
    poster = Poster()

    with pytest.raises(ModelUnavailableError) as caught:
        await env.jobs.start(created(env, "veo-3.1"), poster)

    assert describe(caught.value) == "The provider retired model veo-3.1; choose another."
    assert poster.calls == ["begin", "abort"]
    assert await env.ledger.open_entries() == []
    assert await env.held() == 0
    # Left off /video's choices, refused without a call; every other model is still made.
    assert env.api.capabilities.available(VEO.models) == ("veo-3.1-fast",)
    with pytest.raises(ModelUnavailableError):
        await env.jobs.start(created(env, "veo-3.1"), Poster())
    assert create.call_count == 1
    assert env.api.supports(Operation.CREATE) is True
    create.respond(200, json=video_json("video_fast", model="veo-3.1-fast"))
    row = await env.jobs.start(created(env, "veo-3.1-fast"), Poster())
    assert row.id == "video_fast"


async def test_a_remix_litellm_refuses_says_so_and_offers_no_billed_retry(env: Env) -> None:
    parent = await env.completed("video_parent")
    remix = env.router.post("/videos/video_parent/remix").respond(500, json=REMIX_REFUSED)
    env.router.get("/videos").respond(200, json=page())
    request = env.jobs.derived(
        "remix", parent, "now in the rain", owner_id=OWNER, guild_id=GUILD, channel_id=CHANNEL
    )

    with pytest.raises(UnsupportedOperationError) as caught:
        await env.jobs.start(request, Poster())

    assert describe(caught.value) == "That is not supported by this provider (remix)."
    # Nothing was made, so no card with a Retry (a new, billed job), and nothing is held.
    assert env.delivery.posted == []
    assert await env.held() == 0
    assert remix.call_count == 1
    # The Remix button is left off from now on, and asking again is refused at once.
    ids = [item.custom_id for item in result_buttons(parent, env.api.unsupported)]
    assert f"videobot:v2:remix:{parent.key}" not in ids
    with pytest.raises(UnsupportedOperationError):
        await env.jobs.parent(parent.id, OWNER, GUILD, Operation.REMIX)


async def test_a_job_given_up_for_its_unknown_status_is_released(database: Database) -> None:
    now = [NOW]
    env = build_env(database, profile=VEO, clock=lambda: now[0])
    env.router.post("/videos").respond(200, json=video_json("video_silent", model="veo-3.1"))
    env.router.get("/videos/video_silent").respond(500, json={"error": {"message": "boom"}})
    # The ledger follows the tracker's events, as in the bot.
    env.jobs.watch(env.tracker.subscribe())
    try:
        row = await env.jobs.start(created(env, "veo-3.1"), Poster())
        assert await env.states(row.key) == ["reserved"]
        while row.id in env.tracker.tracked:
            now[0] += 5
            await env.tracker.refresh_due()
        for _ in range(500):
            if await env.states(row.key) != ["reserved"]:
                break
            await asyncio.sleep(0.01)
        failed = await env.videos.get(row.id)
    finally:
        await env.jobs.stop()
        await env.api.aclose()

    assert failed is not None
    assert (failed.status, failed.error_code) == ("failed", STATUS_UNKNOWN)
    assert failure_text(failed) == (
        "The provider could not say how this video is doing for 10 minutes. "
        "It was given up, and nothing is charged for it."
    )
    assert await env.states(row.key) == ["released"]
    assert await env.held() == 0
