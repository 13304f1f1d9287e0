"""Characters: created from an uploaded clip, fetched by id."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.simulator.media import write_video

from .harness import Sim


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    write_video(path, "720x1280", 2)
    return Path(path).read_bytes()


async def test_create_then_get(sim: Sim, clip: bytes) -> None:
    response = await sim.client.post(
        "videos/characters",
        files={"name": (None, "Captain Whiskers"), "video": ("clip.mp4", clip, "video/mp4")},
    )

    character = response.json()
    assert response.status_code == 200, response.text
    assert character["id"].startswith("char_")
    assert character == {
        "id": character["id"],
        "name": "Captain Whiskers",
        "created_at": int(sim.clock.now),
    }
    fetched = await sim.client.get(f"videos/characters/{character['id']}")
    assert fetched.json() == character


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
async def test_name_must_be_1_to_80_characters(sim: Sim, clip: bytes, name: str) -> None:
    response = await sim.client.post(
        "videos/characters",
        files={"name": (None, name), "video": ("clip.mp4", clip, "video/mp4")},
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "name"


async def test_eighty_characters_is_fine(sim: Sim, clip: bytes) -> None:
    response = await sim.client.post(
        "videos/characters",
        files={"name": (None, "x" * 80), "video": ("clip.mp4", clip, "video/mp4")},
    )

    assert response.status_code == 200


async def test_video_is_required_and_must_be_a_video(sim: Sim) -> None:
    missing = await sim.client.post("videos/characters", files={"name": (None, "Bob")})
    garbage = await sim.client.post(
        "videos/characters",
        files={"name": (None, "Bob"), "video": ("clip.mp4", b"nope", "video/mp4")},
    )

    assert (missing.status_code, missing.json()["error"]["code"]) == (
        400,
        "missing_required_parameter",
    )
    assert (garbage.status_code, garbage.json()["error"]["param"]) == (400, "video")


async def test_json_body_is_refused(sim: Sim) -> None:
    response = await sim.client.post("videos/characters", json={"name": "Bob"})

    assert response.status_code == 400


async def test_unknown_character_is_404(sim: Sim) -> None:
    response = await sim.client.get("videos/characters/char_missing")

    assert response.status_code == 404
    assert response.json()["error"]["param"] == "character_id"
