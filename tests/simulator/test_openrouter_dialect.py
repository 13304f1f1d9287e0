"""The simulator's openrouter dialect: OpenRouter's paths, bodies, statuses and errors."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from bot.simulator.openrouter import CATALOGUE
from bot.videoapi.models import Operation

from .openrouter import OpenRouterSim, StartOpenRouter

PNG = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()


VEO = {"model": "google/veo-3.1-fast", "prompt": "a fox", "duration": 8, "resolution": "720p"}


async def test_openrouter_base_url_and_create_answer_202_pending(orsim: OpenRouterSim) -> None:
    assert orsim.base_url.endswith("/api/v1")
    answer = await orsim.http.post("videos", json={**VEO, "aspect_ratio": "9:16"})
    assert answer.status_code == 202
    body = answer.json()
    assert body == {
        "id": body["id"],
        "polling_url": f"/api/v1/videos/{body['id']}",
        "status": "pending",
    }
    assert body["id"].startswith("job-")
    assert orsim.state.jobs[body["id"]].size == "720x1280"
    assert orsim.state.calls[Operation.CREATE] == 1


async def test_openrouter_job_runs_to_completed_with_cost_and_content(orsim: OpenRouterSim) -> None:
    job_id = (await orsim.http.post("videos", json=VEO)).json()["id"]
    orsim.clock.advance(5)
    running = (await orsim.http.get(f"videos/{job_id}")).json()
    assert running["status"] == "in_progress"
    assert "progress" not in running
    assert "usage" not in running
    orsim.clock.advance(5)
    done = (await orsim.http.get(f"videos/{job_id}")).json()
    assert done["status"] == "completed"
    assert done["usage"] == {"cost": 0.8, "is_byok": False}
    assert done["unsigned_urls"] == [f"{orsim.base_url}/videos/{job_id}/content?index=0"]
    content = await orsim.http.get(f"videos/{job_id}/content", params={"index": 0})
    assert content.status_code == 200
    assert content.headers["content-type"] == "video/mp4"
    assert content.content[4:8] == b"ftyp"
    missing = await orsim.http.get(f"videos/{job_id}/content", params={"index": 1})
    assert missing.status_code == 404


async def test_openrouter_flat_priced_model_costs_its_sku(orsim: OpenRouterSim) -> None:
    body = {"model": "alibaba/wan-2.6", "prompt": "rain", "duration": 15, "size": "854x480"}
    job_id = (await orsim.http.post("videos", json=body)).json()["id"]
    orsim.clock.advance(10)
    assert (await orsim.http.get(f"videos/{job_id}")).json()["usage"]["cost"] == 0.5


async def test_openrouter_models_lists_different_sets(orsim: OpenRouterSim) -> None:
    answer = await orsim.http.get("videos/models", headers={"Authorization": ""})
    assert answer.status_code == 200
    models = {model["id"]: model for model in answer.json()["data"]}
    assert set(models) == {model.id for model in CATALOGUE}
    durations = {tuple(model["supported_durations"]) for model in models.values()}
    assert len(durations) == len(models)
    assert models["alibaba/wan-2.6"]["supported_sizes"] == ["1280x720", "720x1280", "854x480"]
    assert models["google/veo-3.1-fast"]["pricing_skus"] == {"duration_seconds": "0.10"}


@pytest.mark.parametrize(
    ("change", "allowed"),
    [
        ({"duration": 7}, "supported: 4, 6, 8"),
        ({"resolution": "4K"}, "supported: 720p, 1080p"),
        ({"aspect_ratio": "1:1"}, "supported: 16:9, 9:16"),
        ({"size": "640x640"}, "supported: 1280x720"),
    ],
)
async def test_openrouter_value_out_of_set_is_400_listing_allowed(
    orsim: OpenRouterSim, change: dict[str, Any], allowed: str
) -> None:
    answer = await orsim.http.post("videos", json={**VEO, **change})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == 400
    assert allowed in error["message"]
    assert not orsim.state.jobs


async def test_openrouter_model_is_required(orsim: OpenRouterSim) -> None:
    answer = await orsim.http.post("videos", json={"prompt": "x"})
    assert answer.status_code == 400


async def test_openrouter_frame_images_first_frame(orsim: OpenRouterSim) -> None:
    frame = {"type": "image_url", "image_url": {"url": PNG}, "frame_type": "first_frame"}
    made = await orsim.http.post("videos", json={**VEO, "frame_images": [frame]})
    assert made.status_code == 202
    wan = {"model": "alibaba/wan-2.6", "prompt": "x", "frame_images": [frame]}
    refused = await orsim.http.post("videos", json=wan)
    assert refused.status_code == 400
    assert "frame_type" in refused.json()["error"]["message"]


async def test_openrouter_previous_job_id_409_until_completed(orsim: OpenRouterSim) -> None:
    first = (await orsim.http.post("videos", json=VEO)).json()["id"]
    early = await orsim.http.post("videos", json={**VEO, "previous_job_id": first})
    assert early.status_code == 409
    orsim.clock.advance(10)
    later = await orsim.http.post("videos", json={**VEO, "previous_job_id": first})
    assert later.status_code == 202
    assert orsim.state.jobs[later.json()["id"]].remixed_from == first
    other = {"model": "alibaba/wan-2.6", "prompt": "x", "previous_job_id": first}
    refused = await orsim.http.post("videos", json=other)
    assert refused.status_code == 400
    assert "does not support previous_job_id" in refused.json()["error"]["message"]


async def test_openrouter_errors_401_404_413(orsim: OpenRouterSim) -> None:
    refused = await orsim.http.post("videos", json=VEO, headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == 401
    assert (await orsim.http.get("videos/job-unknown")).status_code == 404
    too_big = await orsim.http.post(
        "videos",
        content=b" " * (50 * 1024 * 1024 + 1),
        headers={"Content-Type": "application/json"},
    )
    assert too_big.status_code == 413


async def test_openrouter_402_when_credits_run_out(start_openrouter: StartOpenRouter) -> None:
    orsim = await start_openrouter(openrouter_credits=1.0)
    assert (await orsim.http.post("videos", json=VEO)).status_code == 202
    answer = await orsim.http.post("videos", json=VEO)
    assert answer.status_code == 402
    assert "Insufficient credits" in answer.json()["error"]["message"]


async def test_openrouter_429_carries_retry_after(start_openrouter: StartOpenRouter) -> None:
    orsim = await start_openrouter(rate_429=1.0)
    answer = await orsim.http.post("videos", json=VEO)
    assert answer.status_code == 429
    assert answer.headers["Retry-After"] == "1"
    assert answer.json()["error"]["code"] == 429


@pytest.mark.parametrize(("end", "status"), [("cancel", "cancelled"), ("expire", "expired")])
async def test_openrouter_cancelled_and_expired_jobs(
    orsim: OpenRouterSim, end: str, status: str
) -> None:
    job_id = (await orsim.http.post("videos", json=VEO)).json()["id"]
    getattr(orsim.handlers, end)(job_id)
    body = (await orsim.http.get(f"videos/{job_id}")).json()
    assert body["status"] == status
    assert body["error"]
    assert "usage" not in body
