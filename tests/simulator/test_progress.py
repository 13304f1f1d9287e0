"""Progress shapes, and held jobs released at once (benchmarks' truly concurrent jobs)."""

from __future__ import annotations

import httpx
import pytest

from bot.simulator import ManualClock, SimulatorConfig, SimulatorState
from bot.simulator.progress import ProgressShape, shaped

from .harness import StartSim


def _progress_over_time(shape: ProgressShape) -> list[int]:
    clock = ManualClock()
    state = SimulatorState(
        SimulatorConfig(job_seconds=100, queued_fraction=0, progress_shape=shape, clock=clock)
    )
    job = state.create_job(model="sora-2", size="720x1280", seconds="4", prompt="a cat")
    seen = []
    clock.advance(5)
    for _ in range(9):
        clock.advance(10)  # 15 s, 25 s ... 95 s of 100
        seen.append(job.video_at(clock.now).progress)
    return seen


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ("linear", [15, 25, 35, 45, 55, 65, 75, 85, 95]),
        ("ease-in", [2, 6, 12, 20, 30, 42, 56, 72, 90]),
        ("stalled-start", [0, 0, 7, 21, 35, 50, 64, 78, 92]),
        ("jumps", [0, 20, 20, 40, 40, 60, 60, 80, 80]),
    ],
)
def test_each_shape_reports_progress_its_own_way(shape: ProgressShape, expected: list[int]) -> None:
    assert _progress_over_time(shape) == expected


def test_a_shape_never_leaves_0_to_1() -> None:
    for shape in ("linear", "ease-in", "stalled-start", "jumps"):
        assert shaped(shape, -0.5) == 0
        assert shaped(shape, 1.5) == 1


def test_mixed_draws_a_shape_per_job_from_the_seed() -> None:
    def shapes(seed: int) -> list[str]:
        state = SimulatorState(SimulatorConfig(progress_shape="mixed", seed=seed))
        return [
            state.create_job(model="sora-2", size="720x1280", seconds="4", prompt="x").shape
            for _ in range(40)
        ]

    assert shapes(1) == shapes(1)
    assert set(shapes(1)) == {"linear", "ease-in", "stalled-start", "jumps"}


def test_held_jobs_wait_queued_until_released_then_start_together() -> None:
    clock = ManualClock()
    state = SimulatorState(
        SimulatorConfig(job_seconds=10, job_seconds_max=100, hold=True, seed=3, clock=clock)
    )
    first = state.create_job(model="sora-2", size="720x1280", seconds="4", prompt="a")
    clock.advance(500)
    second = state.create_job(model="sora-2", size="720x1280", seconds="4", prompt="b")
    clock.advance(500)
    assert [job.video_at(clock.now).status for job in (first, second)] == ["queued", "queued"]

    assert state.release() == 2
    released = clock.now
    for job in (first, second):
        assert job.queued_until == pytest.approx(released + (job.ends - released) * 0.2)
        assert 10 <= job.ends - released <= 100
    # After the release, new jobs start at once.
    third = state.create_job(model="sora-2", size="720x1280", seconds="4", prompt="c")
    assert third.ends - clock.now == pytest.approx(third.ends - third.started)


async def test_the_control_routes_release_and_report_real_ends(start: StartSim) -> None:
    sim = await start(hold=True)
    await sim.client.post("videos", json={"prompt": "a cat"})
    root = sim.base_url.removesuffix("/v1")
    async with httpx.AsyncClient() as control:
        before = (await control.get(f"{root}/simulator/jobs")).json()
        released = (await control.post(f"{root}/simulator/release")).json()
        after = (await control.get(f"{root}/simulator/jobs")).json()
    assert [job["ends"] for job in before["jobs"]] == [None]
    assert released == {"released": 1, "at": sim.clock.now}
    assert after["jobs"][0]["ends"] == sim.clock.now + 10
    assert after["calls"] == {"create": 1}


async def test_the_control_routes_want_the_key_when_one_is_set(start: StartSim) -> None:
    sim = await start(api_key="sk-test", headers={"Authorization": "Bearer sk-test"})
    root = sim.base_url.removesuffix("/v1")
    async with httpx.AsyncClient() as control:
        refused = await control.post(f"{root}/simulator/release")
        allowed = await control.post(
            f"{root}/simulator/release", headers={"Authorization": "Bearer sk-test"}
        )
    assert (refused.status_code, allowed.status_code) == (401, 200)
