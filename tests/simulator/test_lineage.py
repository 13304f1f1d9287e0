"""Remix, edit and extend: a completed source, inherited settings, and the lineage recorded."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from .harness import Sim


async def test_remix_keeps_the_source_settings_and_links_it(sim: Sim) -> None:
    source = await sim.completed(model="sora-2-pro", size="1792x1024", seconds="12")

    response = await sim.client.post(f"videos/{source['id']}/remix", json={"prompt": "at night"})

    remix = response.json()
    assert response.status_code == 200
    assert remix["id"] != source["id"]
    assert remix["remixed_from_video_id"] == source["id"]
    assert (remix["model"], remix["size"], remix["seconds"]) == ("sora-2-pro", "1792x1024", "12")
    assert (remix["status"], remix["prompt"]) == ("queued", "at night")


async def test_remix_takes_a_multipart_prompt(sim: Sim) -> None:
    source = await sim.completed()

    response = await sim.client.post(
        f"videos/{source['id']}/remix", files={"prompt": (None, "in the rain")}
    )

    assert response.status_code == 200
    assert response.json()["prompt"] == "in the rain"


async def test_edit_links_the_source_and_keeps_its_settings(sim: Sim) -> None:
    source = await sim.completed(size="1280x720", seconds="8")

    response = await sim.client.post(
        "videos/edits", json={"video": {"id": source["id"]}, "prompt": "make it blue"}
    )

    edit = response.json()
    assert response.status_code == 200
    assert edit["remixed_from_video_id"] == source["id"]
    assert (edit["size"], edit["seconds"]) == ("1280x720", "8")


async def test_extension_seconds_are_the_stitched_total(sim: Sim) -> None:
    source = await sim.completed(seconds="12")

    response = await sim.client.post(
        "videos/extensions",
        json={"video": {"id": source["id"]}, "prompt": "the cat bows", "seconds": "20"},
    )

    extension = response.json()
    assert response.status_code == 200
    assert extension["seconds"] == "32"
    assert extension["remixed_from_video_id"] == source["id"]


async def test_extension_allows_only_the_profile_extend_seconds(sim: Sim) -> None:
    source = await sim.completed()

    response = await sim.client.post(
        "videos/extensions",
        json={"video": {"id": source["id"]}, "prompt": "the cat bows", "seconds": "24"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "seconds"


async def test_extension_needs_seconds(sim: Sim) -> None:
    source = await sim.completed()

    response = await sim.client.post(
        "videos/extensions", json={"video": {"id": source["id"]}, "prompt": "the cat bows"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_required_parameter"


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda video_id: {"video": (None, json.dumps({"id": video_id}))}, id="json"),
        pytest.param(lambda video_id: {"video[id]": (None, video_id)}, id="brackets"),
    ],
)
async def test_multipart_video_reference(
    sim: Sim, encode: Callable[[str], dict[str, tuple[None, str]]]
) -> None:
    source = await sim.completed()

    response = await sim.client.post(
        "videos/extensions",
        files={**encode(source["id"]), "prompt": (None, "more"), "seconds": (None, "4")},
    )

    assert response.status_code == 200, response.text
    assert response.json()["remixed_from_video_id"] == source["id"]
    assert response.json()["seconds"] == "8"


async def test_uploaded_video_is_a_source_without_lineage(sim: Sim) -> None:
    source = await sim.completed(size="1280x720", seconds="8")
    clip = (await sim.client.get(f"videos/{source['id']}/content")).content

    response = await sim.client.post(
        "videos/edits", files={"video": ("clip.mp4", clip, "video/mp4"), "prompt": (None, "blue")}
    )

    edit = response.json()
    assert response.status_code == 200, response.text
    assert edit["remixed_from_video_id"] is None
    assert (edit["size"], edit["seconds"]) == ("1280x720", "8")


async def test_uploaded_garbage_is_not_a_video(sim: Sim) -> None:
    response = await sim.client.post(
        "videos/edits",
        files={"video": ("clip.mp4", b"not a video", "video/mp4"), "prompt": (None, "blue")},
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "video"


@pytest.mark.parametrize("operation", ["remix", "edit", "extend"])
async def test_unfinished_source_is_400_and_unknown_is_404(sim: Sim, operation: str) -> None:
    queued = await sim.create()
    failed = await sim.create()
    sim.state.fail(failed["id"])

    def request(video_id: str) -> tuple[str, dict[str, object]]:
        if operation == "remix":
            return f"videos/{video_id}/remix", {"prompt": "again"}
        if operation == "edit":
            return "videos/edits", {"video": {"id": video_id}, "prompt": "again"}
        return "videos/extensions", {"video": {"id": video_id}, "prompt": "again", "seconds": "4"}

    statuses = []
    for video_id in (queued["id"], failed["id"], "video_unknown"):
        path, body = request(video_id)
        statuses.append((await sim.client.post(path, json=body)).status_code)

    assert statuses == [400, 400, 404]
