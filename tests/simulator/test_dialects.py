"""Dialects: the simulator answering as vLLM-Omni, SGLang diffusion and Aquiles-Image do.

These answers leave the contract on purpose, so the client here has no spec check.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest

from bot.simulator import STATE_KEY, ManualClock, SimulatorConfig, make_app
from bot.simulator.dialects import DialectName
from bot.simulator.server import serve_app

from .harness import Sim

PROMPT = "a calico cat playing a piano"
StartDialect = Callable[[DialectName], Awaitable[Sim]]


@pytest.fixture
async def start_dialect() -> AsyncIterator[StartDialect]:
    async with AsyncExitStack() as stack:

        async def _start(dialect: DialectName) -> Sim:
            clock = ManualClock()
            app = make_app(SimulatorConfig(dialect=dialect, clock=clock, job_seconds=10))
            base_url = await stack.enter_async_context(serve_app(app))
            client = await stack.enter_async_context(httpx.AsyncClient(base_url=f"{base_url}/"))
            return Sim(client, app[STATE_KEY], clock, base_url)

        yield _start


async def create_multipart(sim: Sim, **fields: str) -> httpx.Response:
    # A file-less multipart body, as OpenAI's SDKs send create without input_reference.
    parts = {name: (None, value) for name, value in {"prompt": PROMPT, **fields}.items()}
    return await sim.client.post("videos", files=parts)


async def poll_until_done(sim: Sim, video_id: str) -> list[dict[str, Any]]:
    """Every answer to retrieve, one a simulated second, until the job has finished."""
    seen: list[dict[str, Any]] = []
    while not seen or seen[-1]["status"] not in ("completed", "failed"):
        response = await sim.client.get(f"videos/{video_id}")
        assert response.status_code == 200, response.text
        seen.append(response.json())
        sim.clock.advance(1)
    return seen


def distinct(values: list[Any]) -> list[Any]:
    return [value for index, value in enumerate(values) if index == 0 or values[index - 1] != value]


async def assert_thumbnail_is_the_mp4(sim: Sim, video_id: str) -> None:
    response = await sim.client.get(f"videos/{video_id}/content", params={"variant": "thumbnail"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert response.content[4:8] == b"ftyp"


async def test_vllm_omni_delivers_through_multipart(start_dialect: StartDialect) -> None:
    sim = await start_dialect("vllm-omni")

    created = await create_multipart(sim, seconds="4")
    assert created.status_code == 200, created.text
    video = created.json()
    seen = await poll_until_done(sim, video["id"])

    assert video["id"].startswith("video_gen_")
    assert video["media_type"] == "video/mp4"
    assert distinct([answer["status"] for answer in seen]) == ["queued", "in_progress", "completed"]
    # The server sets progress once, when the job completes.
    assert {answer["progress"] for answer in seen[:-1]} == {0}
    assert seen[-1]["progress"] == 100
    assert seen[-1]["expires_at"] is None
    await assert_thumbnail_is_the_mp4(sim, video["id"])


async def test_vllm_omni_refuses_a_json_create(start_dialect: StartDialect) -> None:
    sim = await start_dialect("vllm-omni")

    response = await sim.client.post("videos", json={"prompt": PROMPT})

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"], error["code"]) == ("Bad Request", "body.prompt", 400)
    assert "'type': 'missing'" in error["message"]
    assert sim.state.jobs == {}


async def test_sglang_goes_from_queued_to_completed(start_dialect: StartDialect) -> None:
    sim = await start_dialect("sglang")

    created = await sim.client.post("videos", json={"prompt": PROMPT, "seconds": "4"})
    assert created.status_code == 200, created.text
    video = created.json()
    seen = await poll_until_done(sim, video["id"])

    assert str(uuid.UUID(video["id"])) == video["id"]
    assert distinct([answer["status"] for answer in seen]) == ["queued", "completed"]
    assert [answer["progress"] for answer in seen] == [0] * (len(seen) - 1) + [100]
    assert all("prompt" not in answer for answer in seen)
    await assert_thumbnail_is_the_mp4(sim, video["id"])


async def test_sglang_lists_without_cursors_and_deletes_into_a_deleted_video(
    start_dialect: StartDialect,
) -> None:
    sim = await start_dialect("sglang")
    video = (await create_multipart(sim)).json()
    sim.state.complete(video["id"])

    listed = (await sim.client.get("videos")).json()
    deleted = await sim.client.delete(f"videos/{video['id']}")

    assert set(listed) == {"object", "data"}
    assert [entry["id"] for entry in listed["data"]] == [video["id"]]
    assert deleted.status_code == 200
    assert (deleted.json()["id"], deleted.json()["status"]) == (video["id"], "deleted")
    assert "deleted" not in deleted.json()


async def test_aquiles_says_processing(start_dialect: StartDialect) -> None:
    sim = await start_dialect("aquiles")

    created = await sim.client.post("videos", json={"prompt": PROMPT, "seconds": "4"})
    assert created.status_code == 200, created.text
    video = created.json()
    seen = await poll_until_done(sim, video["id"])

    assert len(video["id"]) == len("video_") + 12
    assert distinct([answer["status"] for answer in seen]) == ["queued", "processing", "completed"]
    assert len({answer["progress"] for answer in seen}) > 2
    assert all("completed_at" not in answer and "expires_at" not in answer for answer in seen)
    await assert_thumbnail_is_the_mp4(sim, video["id"])


async def test_aquiles_fails_on_numeric_seconds_in_json(start_dialect: StartDialect) -> None:
    sim = await start_dialect("aquiles")

    response = await sim.client.post("videos", json={"prompt": PROMPT, "seconds": 4})

    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("dialect", ["vllm-omni", "sglang", "aquiles"])
@pytest.mark.parametrize(
    ("method", "path", "status", "detail"),
    [
        # These paths also match GET and DELETE /videos/{video_id}, so Starlette says 405.
        ("POST", "videos/edits", 405, "Method Not Allowed"),
        ("POST", "videos/extensions", 405, "Method Not Allowed"),
        ("POST", "videos/characters", 405, "Method Not Allowed"),
        ("GET", "videos/characters/char_123", 404, "Not Found"),
        ("POST", "videos/video_123/remix", 404, "Not Found"),
    ],
)
async def test_missing_routes_answer_as_fastapi(
    start_dialect: StartDialect,
    dialect: DialectName,
    method: str,
    path: str,
    status: int,
    detail: str,
) -> None:
    sim = await start_dialect(dialect)

    response = await sim.client.request(method, path, json={"prompt": PROMPT})

    assert response.status_code == status
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    ("dialect", "body"),
    [
        ("sglang", {"detail": "No video found with id 'nope'."}),
        ("aquiles", {"detail": "No video found with id 'nope'."}),
        (
            "vllm-omni",
            {
                "error": {
                    "message": "No video found with id 'nope'.",
                    "type": "Not Found",
                    "param": None,
                    "code": 404,
                }
            },
        ),
    ],
)
async def test_errors_take_the_servers_shape(
    start_dialect: StartDialect, dialect: DialectName, body: dict[str, Any]
) -> None:
    sim = await start_dialect(dialect)

    response = await sim.client.get("videos/nope")

    assert response.status_code == 404
    assert response.json() == body
