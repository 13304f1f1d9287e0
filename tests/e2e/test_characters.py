"""/character: made from an uploaded clip, shown and listed to its creator only."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.videoapi.models import Operation

from .botenv import BotEnv, StartBot
from .harness import Upload
from .views import JSON, embed, ephemeral_answer, public

NOT_YOURS = "I can't find that character among yours."


async def mp4_clip(env: BotEnv, folder: Path) -> bytes:
    """A real MP4: a finished video of the simulator's, fetched as the bot would."""
    job = env.sim.create_job(model="sora-2", size="720x1280", seconds="4", prompt="a clip")
    env.sim.complete(job.id)
    result = await env.bot.api.download(job.id, folder / "clip.mp4")
    data = result.path.read_bytes()
    assert data[4:8] == b"ftyp"
    return data


def field_value(message: JSON, name: str) -> str:
    return next(f["value"] for f in embed(message)["fields"] if f["name"] == name)


async def create(env: BotEnv, user: JSON, name: str, clip: Upload) -> JSON:
    h = env.harness
    rec = await h.slash("character create", {"name": name, "video": clip}, user=user)
    return await ephemeral_answer(h, rec)


async def test_create_show_and_list(start_bot: StartBot, tmp_path: Path) -> None:
    env = await start_bot()
    h = env.harness
    alice, bob = h.world.alice, h.world.bob
    data = await mp4_clip(env, tmp_path)

    made = await create(env, alice, "  Captain Nemo ", Upload("nemo.mp4", data))
    assert embed(made)["title"] == "Captain Nemo"
    character = field_value(made, "Provider's id").strip("`")
    ref = field_value(made, "Character")
    assert character in env.sim.characters
    assert env.sim.calls[Operation.CREATE_CHARACTER] == 1
    bobs = await create(env, bob, "Bob's double", Upload("bob.mp4", data))
    bobs_ref = field_value(bobs, "Character")
    assert (ref, bobs_ref) == ("#1", "#2")
    assert not public(h)

    rec = await h.slash("character show", {"character": ref}, user=alice)
    shown = await ephemeral_answer(h, rec)
    assert embed(shown)["title"] == "Captain Nemo"
    assert field_value(shown, "Provider's id") == f"`{character}`"
    assert env.sim.calls[Operation.GET_CHARACTER] == 1

    rec = await h.slash("character list", user=alice)
    listing = await ephemeral_answer(h, rec)
    assert ref in embed(listing)["description"]
    assert "Captain Nemo" in embed(listing)["description"]
    assert bobs_ref not in embed(listing)["description"]

    # Bob cannot see Alice's character, by either name, and the provider is not asked.
    for name in (ref, character):
        rec = await h.slash("character show", {"character": name}, user=bob)
        refused = await ephemeral_answer(h, rec)
        assert refused["content"] == NOT_YOURS
    rec = await h.slash("character show", {"character": character}, user=bob)
    refused = await ephemeral_answer(h, rec)
    assert refused["content"] == NOT_YOURS
    assert env.sim.calls[Operation.GET_CHARACTER] == 1
    rec = await h.autocomplete("character show", {"character": ""}, "character", user=bob)
    await h.response(rec)
    assert [c["value"] for c in rec.choices or []] == [bobs_ref]
    assert not public(h)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("png", "The clip must be an MP4, MOV or WebM video."),
        ("too-large", "The clip must be at most 1 MiB."),
        ("long-name", "a character name must be 1 to 80 characters long"),
        ("blank-name", "a character name must be 1 to 80 characters long"),
    ],
)
async def test_bad_uploads_are_refused_before_any_api_call(
    start_bot: StartBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, expected: str
) -> None:
    env = await start_bot()
    h = env.harness
    data = await mp4_clip(env, tmp_path)
    name, clip = "Nemo", Upload("nemo.mp4", data)
    if case == "png":
        clip = Upload("nemo.png", b"\x89PNG\r\n\x1a\n" + bytes(64))
    elif case == "too-large":
        # By name: the bot loaded its own copy of the extension's module when it started.
        monkeypatch.setattr(sys.modules["cogs.character"], "CLIP_MAX_BYTES", 1024 * 1024)
        clip = Upload("nemo.mp4", data + bytes(1024 * 1024 + 1 - len(data)))
    elif case == "long-name":
        name = "n" * 81
    else:
        name = "   "
    calls = sum(env.sim.calls.values())

    reply = await create(env, h.world.alice, name, clip)
    assert expected in reply["content"]
    assert sum(env.sim.calls.values()) == calls
    assert env.sim.characters == {}
    assert not public(h)


@pytest.mark.parametrize("served", ["more-than-declared", "missing"])
async def test_a_clip_the_cdn_does_not_serve_as_declared_is_refused(
    start_bot: StartBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, served: str
) -> None:
    env = await start_bot()
    h = env.harness
    data = await mp4_clip(env, tmp_path)
    monkeypatch.setattr(sys.modules["cogs.character"], "CLIP_MAX_BYTES", 1024 * 1024)
    upload = h.fake.upload

    def served_otherwise(channel_id: int, filename: str, data: bytes, **extra: object) -> JSON:
        payload = upload(channel_id, filename, data + bytes(2 * 1024 * 1024), **extra)
        if served == "missing":
            del h.fake.uploads[int(payload["id"])]
        return {**payload, "size": len(data)}

    monkeypatch.setattr(h.fake, "upload", served_otherwise)
    calls = sum(env.sim.calls.values())

    reply = await create(env, h.world.alice, "Nemo", Upload("nemo.mp4", data))
    expected = {
        "more-than-declared": "nemo.mp4 is over 1 MiB.",
        "missing": "Discord did not send nemo.mp4 (HTTP 404); try again in a moment.",
    }
    assert reply["content"] == expected[served]
    assert sum(env.sim.calls.values()) == calls
    assert env.sim.characters == {}
