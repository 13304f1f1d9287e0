"""Every operation, in every state it can answer from, validated against the contract.

The check itself runs on every response of every simulator test (see conftest.py); this test
makes sure one scenario reaches all ten operations and every job status, so none goes unchecked.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bot.simulator.media import write_video

from .harness import Sim, SpecChecker


async def test_every_operation_answers_in_the_spec_shape(
    sim: Sim, spec_checker: SpecChecker, tmp_path: Path
) -> None:
    before = Counter(spec_checker.validated)
    errors_before = sum(spec_checker.errors.values())
    client = sim.client

    queued = await sim.create(model="sora-2-pro", size="1792x1024", seconds="12")
    sim.clock.advance(5)
    running = await sim.video(queued["id"])
    sim.clock.advance(5)
    done = await sim.video(queued["id"])
    assert [queued["status"], running["status"], done["status"]] == [
        "queued",
        "in_progress",
        "completed",
    ]
    failing = await sim.create()
    sim.state.fail(failing["id"])
    assert (await sim.video(failing["id"]))["status"] == "failed"

    await client.post(f"videos/{done['id']}/remix", json={"prompt": "remixed"})
    await client.post("videos/edits", json={"video": {"id": done["id"]}, "prompt": "edited"})
    await client.post(
        "videos/edits",
        files={"video": (None, json.dumps({"id": done["id"]})), "prompt": (None, "edited")},
    )
    await client.post(
        "videos/extensions",
        json={"video": {"id": done["id"]}, "prompt": "extended", "seconds": "16"},
    )
    pages: list[dict[str, str | int]] = [
        {},
        {"limit": 1, "order": "asc"},
        {"limit": 0},
        {"after": done["id"]},
    ]
    for params in pages:
        await client.get("videos", params=params)
    for variant in ("video", "thumbnail", "spritesheet"):
        await client.get(f"videos/{done['id']}/content", params={"variant": variant})

    clip = tmp_path / "clip.mp4"
    write_video(clip, "720x1280", 1)
    character = await client.post(
        "videos/characters",
        files={"name": (None, "Whiskers"), "video": ("clip.mp4", clip.read_bytes(), "video/mp4")},
    )
    await client.get(f"videos/characters/{character.json()['id']}")
    await client.delete(f"videos/{failing['id']}")
    await client.get(f"videos/{failing['id']}")
    await client.post("videos", json={"prompt": ""})

    seen = Counter(spec_checker.validated)
    seen.subtract(before)
    every_operation = {
        operation["operationId"]
        for item in spec_checker.spec["paths"].values()
        for operation in item.values()
    }
    assert {name for name, count in seen.items() if count > 0} == every_operation
    assert sum(spec_checker.errors.values()) - errors_before == 2
