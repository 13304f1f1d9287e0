"""Input validation as the spec and the provider profile say, in OpenAI's error shape."""

from __future__ import annotations

import base64
import io
from typing import Any

import pytest
from PIL import Image

from bot.videoapi.profile import ProviderProfile

from .harness import Sim, StartSim


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "orange").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({}, "prompt", "missing_required_parameter"),
        ({"prompt": ""}, "prompt", "invalid_value"),
        ({"prompt": "x" * 32_001}, "prompt", "invalid_value"),
        ({"prompt": 7}, "prompt", "invalid_type"),
        ({"prompt": "cat", "model": "sora-9"}, "model", "invalid_value"),
        ({"prompt": "cat", "size": "640x480"}, "size", "invalid_value"),
        ({"prompt": "cat", "seconds": "5"}, "seconds", "invalid_value"),
        ({"prompt": "cat", "seconds": "16"}, "seconds", "invalid_value"),
        ({"prompt": "cat", "duration": "4"}, "duration", "unknown_parameter"),
        ({"prompt": "cat", "input_reference": {}}, "input_reference", "invalid_value"),
        (
            {"prompt": "cat", "input_reference": {"image_url": "https://x/a.png", "file_id": "f"}},
            "input_reference",
            "invalid_value",
        ),
    ],
)
async def test_create_rejects_bad_input(
    sim: Sim, body: dict[str, Any], param: str, code: str
) -> None:
    response = await sim.client.post("videos", json=body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["param"], error["code"], error["type"]) == (param, code, "invalid_request_error")
    assert sim.state.jobs == {}


async def test_longest_prompt_and_integer_seconds_are_accepted(sim: Sim) -> None:
    video = await sim.create(prompt="x" * 32_000, seconds=8)

    assert video["seconds"] == "8"


async def test_profile_decides_what_is_allowed(start: StartSim) -> None:
    profile = ProviderProfile(models=("wan-2.2",), sizes=("1280x720",), seconds=("5",))
    sim = await start(profile=profile)

    video = await sim.create()
    refused = await sim.client.post("videos", json={"prompt": "cat", "model": "sora-2"})

    assert (video["model"], video["size"], video["seconds"]) == ("wan-2.2", "1280x720", "5")
    assert refused.status_code == 400


async def test_malformed_json_and_wrong_content_type_are_400(sim: Sim) -> None:
    broken = await sim.client.post(
        "videos", content=b"{not json", headers={"content-type": "application/json"}
    )
    array = await sim.client.post("videos", json=["prompt"])
    text = await sim.client.post(
        "videos", content=b"prompt=cat", headers={"content-type": "text/plain"}
    )

    assert [r.status_code for r in (broken, array, text)] == [400, 400, 400]


async def test_multipart_create_with_an_uploaded_reference(sim: Sim) -> None:
    response = await sim.client.post(
        "videos",
        files={
            "prompt": (None, "the cat from the photo"),
            "size": (None, "1280x720"),
            "seconds": (None, "8"),
            "input_reference": ("cat.png", png(1280, 720), "image/png"),
        },
    )

    assert response.status_code == 200, response.text
    assert (response.json()["size"], response.json()["seconds"]) == ("1280x720", "8")


async def test_reference_image_must_match_the_size(sim: Sim) -> None:
    response = await sim.client.post(
        "videos",
        files={
            "prompt": (None, "cat"),
            "input_reference": ("cat.png", png(640, 480), "image/png"),
        },
    )

    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input_reference"


async def test_reference_by_data_url_is_checked_and_by_file_id_accepted(sim: Sim) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(png(720, 1280)).decode()
    small_url = "data:image/png;base64," + base64.b64encode(png(10, 10)).decode()

    by_url = await sim.client.post(
        "videos", json={"prompt": "cat", "input_reference": {"image_url": data_url}}
    )
    too_small = await sim.client.post(
        "videos", json={"prompt": "cat", "input_reference": {"image_url": small_url}}
    )
    by_file = await sim.client.post(
        "videos", json={"prompt": "cat", "input_reference": {"file_id": "file-123"}}
    )

    assert [r.status_code for r in (by_url, too_small, by_file)] == [200, 400, 200]


async def test_multipart_reference_object_as_bracketed_fields(sim: Sim) -> None:
    response = await sim.client.post(
        "videos",
        files={"prompt": (None, "cat"), "input_reference[file_id]": (None, "file-123")},
    )

    assert response.status_code == 200, response.text


async def test_every_response_has_a_request_id(start: StartSim) -> None:
    sim = await start(disabled_operations={"extend"})
    responses = [
        await sim.client.post("videos", json={"prompt": "cat"}),
        await sim.client.post("videos", json={}),
        await sim.client.get("videos/video_missing"),
        await sim.client.post("videos/extensions", json={}),
        await sim.client.get("not-a-route"),
    ]

    ids = [response.headers["x-request-id"] for response in responses]
    assert all(request_id.startswith("req_") for request_id in ids)
    assert len(set(ids)) == len(ids)
