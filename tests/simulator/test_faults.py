"""Auth, injected faults, missing routes, the poll hint, and the per-route call counters."""

from __future__ import annotations

import time

import httpx
import pytest

from bot.videoapi.models import Operation

from .harness import StartSim


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, None),
        ({"Authorization": "Bearer wrong"}, 401, "invalid_api_key"),
        ({"Authorization": "Basic sk-sim"}, 401, None),
        ({"Authorization": "Bearer sk-sim"}, 200, None),
    ],
)
async def test_api_key_is_required_when_set(
    start: StartSim, headers: dict[str, str], status: int, code: str | None
) -> None:
    sim = await start(api_key="sk-sim", headers=headers)

    response = await sim.client.get("videos")

    assert response.status_code == status
    if status == 401:
        error = response.json()["error"]
        assert error["code"] == code
        assert "wrong" not in error["message"]


async def test_any_key_or_none_passes_without_api_key(start: StartSim) -> None:
    anonymous = await start()
    keyed = await start(headers={"Authorization": "Bearer whatever"})

    assert (await anonymous.client.get("videos")).status_code == 200
    assert (await keyed.client.get("videos")).status_code == 200


async def test_rate_limit_says_when_to_retry(start: StartSim) -> None:
    sim = await start(rate_429=1.0, retry_after_seconds=2.5)

    response = await sim.client.post("videos", json={"prompt": "cat"})

    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"
    assert response.headers["retry-after-ms"] == "2500"
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert sim.state.jobs == {}


async def test_server_error(start: StartSim) -> None:
    sim = await start(rate_500=1.0)

    response = await sim.client.get("videos")

    assert response.status_code == 500
    assert response.json()["error"]["type"] == "server_error"


async def test_faults_are_deterministic_for_a_seed(start: StartSim) -> None:
    async def statuses(seed: int) -> list[int]:
        sim = await start(rate_500=0.5, seed=seed)
        return [(await sim.client.get("videos")).status_code for _ in range(20)]

    first, again, other = await statuses(7), await statuses(7), await statuses(8)

    assert first == again
    assert first != other
    assert {200, 500} == set(first)


async def test_moderation_failure_ends_the_job_failed(start: StartSim) -> None:
    sim = await start(rate_moderation_failure=1.0)
    video = await sim.create()
    assert video["status"] == "queued"

    sim.clock.advance(10)
    failed = await sim.video(video["id"])

    assert failed["status"] == "failed"
    assert failed["error"]["code"] == "moderation_blocked"
    assert failed["error"]["message"]


async def test_latency_is_added_to_each_request(start: StartSim) -> None:
    sim = await start(latency_ms=150)

    began = time.perf_counter()
    await sim.client.get("videos")
    elapsed = time.perf_counter() - began

    assert elapsed >= 0.15


async def test_disabled_operation_answers_like_a_missing_route(start: StartSim) -> None:
    sim = await start(disabled_operations={Operation.EXTEND, Operation.CREATE_CHARACTER})
    source = await sim.completed()

    extend = await sim.client.post(
        "videos/extensions", json={"video": {"id": source["id"]}, "prompt": "on", "seconds": "4"}
    )
    character = await sim.client.post("videos/characters", files={"name": (None, "Bob")})
    remix = await sim.client.post(f"videos/{source['id']}/remix", json={"prompt": "again"})

    for response in (extend, character):
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/plain")
        assert response.text == "404: Not Found"
    assert remix.status_code == 200


async def test_poll_hint_header_on_video_responses(start: StartSim) -> None:
    hinted = await start(poll_after_ms=1500)
    plain = await start()

    created = await hinted.client.post("videos", json={"prompt": "cat"})
    retrieved = await hinted.client.get(f"videos/{created.json()['id']}")
    unhinted = await plain.client.post("videos", json={"prompt": "cat"})

    assert created.headers["openai-poll-after-ms"] == "1500"
    assert retrieved.headers["openai-poll-after-ms"] == "1500"
    assert "openai-poll-after-ms" not in unhinted.headers


async def test_calls_are_counted_per_operation_faults_included(start: StartSim) -> None:
    sim = await start(disabled_operations={Operation.EXTEND})
    video = await sim.create()
    for _ in range(3):
        await sim.client.get(f"videos/{video['id']}")
    await sim.client.post("videos/extensions", json={})
    await sim.client.get("videos/video_missing")
    await sim.client.get("elsewhere")

    assert sim.state.calls == {
        Operation.CREATE: 1,
        Operation.RETRIEVE: 4,
        Operation.EXTEND: 1,
    }


async def test_failover_faults_refuse_creates_in_order_making_nothing(start: StartSim) -> None:
    sim = await start(create_refusals=("credits", "not_accepted"))
    body = {"prompt": "a cat"}

    credits = await sim.client.post("videos", json=body)
    not_accepted = await sim.client.post("videos", json=body)
    served = await sim.client.post("videos", json=body)

    assert credits.status_code == 402
    assert credits.json()["error"]["code"] == "insufficient_credits"
    assert not_accepted.status_code == 503
    assert "not accepted" in not_accepted.json()["error"]["message"]
    assert served.status_code == 200
    assert list(sim.state.jobs) == [served.json()["id"]]
    assert sim.state.calls[Operation.CREATE] == 3


async def test_failover_faults_change_while_it_runs(start: StartSim) -> None:
    sim = await start()
    root = sim.base_url.removesuffix("/v1")
    faults = {"create_refusals": ["credits"], "create_answer_delay": 0.01, "rate_500": 0.0}
    async with httpx.AsyncClient() as control:
        changed = await control.post(f"{root}/simulator/faults", json=faults)
        refused = await control.post(f"{root}/simulator/faults", json={"rate_500": 2})
    assert changed.json() == {"create_refusals": ["credits"]}
    assert refused.status_code == 400
    assert sim.state.config.create_answer_delay == 0.01
    assert (await sim.client.post("videos", json={"prompt": "a cat"})).status_code == 402
    # The answer comes late, but the job was made when the create arrived.
    made = await sim.client.post("videos", json={"prompt": "a cat"})
    assert made.status_code == 200
    assert list(sim.state.jobs) == [made.json()["id"]]
