"""Serving in-process: a loopback base URL that ends in /v1, like OpenAI's."""

from __future__ import annotations

import httpx

from bot.simulator import ManualClock, SimulatorConfig, serve


async def test_serve_yields_a_working_v1_base_url() -> None:
    config = SimulatorConfig(clock=ManualClock(), job_seconds=0)

    async with serve(config) as base_url, httpx.AsyncClient() as client:
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/v1")
        created = await client.post(f"{base_url}/videos", json={"prompt": "a cat"})
        listed = await client.get(f"{base_url}/videos")

    assert created.json()["status"] == "completed"
    assert [video["id"] for video in listed.json()["data"]] == [created.json()["id"]]
