"""Jobs whose durations vary: drawn per job between job_seconds and job_seconds_max."""

from __future__ import annotations

import math
import statistics

import pytest
from pydantic import ValidationError

from bot.simulator import ManualClock, SimulatorConfig, SimulatorState

from .harness import StartSim


def _durations(config: SimulatorConfig, count: int) -> list[float]:
    state = SimulatorState(config)
    jobs = [
        state.create_job(model="sora-2", size="720x1280", seconds="4", prompt="a cat")
        for _ in range(count)
    ]
    return [job.ends - job.started for job in jobs]


def test_durations_spread_within_bounds_skewed_short() -> None:
    config = SimulatorConfig(job_seconds=30, job_seconds_max=600, seed=7, clock=ManualClock())

    durations = _durations(config, 2_000)

    assert all(30 <= duration <= 600 for duration in durations)
    assert len(set(durations)) == len(durations)
    # Log-uniform: the geometric midpoint (~134 s) splits the jobs in half, so the median sits
    # well below the arithmetic midpoint (315 s) and the logs are evenly spread.
    assert 110 < statistics.median(durations) < 160
    logs = [math.log(duration) for duration in durations]
    low, high = math.log(30), math.log(600)
    for quarter in range(4):
        start = low + (high - low) * quarter / 4
        end = low + (high - low) * (quarter + 1) / 4
        share = sum(start <= value < end for value in logs) / len(logs)
        assert 0.2 < share < 0.3


def test_durations_are_deterministic_for_a_seed() -> None:
    def config(seed: int) -> SimulatorConfig:
        return SimulatorConfig(job_seconds=1.5, job_seconds_max=30, seed=seed, clock=ManualClock())

    assert _durations(config(3), 50) == _durations(config(3), 50)
    assert _durations(config(3), 50) != _durations(config(4), 50)


def test_fault_draws_do_not_shift_durations() -> None:
    calm = SimulatorConfig(job_seconds=1, job_seconds_max=10, clock=ManualClock())
    faulty = calm.model_copy(update={"rate_moderation_failure": 0.5, "rate_429": 0.5})
    state = SimulatorState(faulty)
    durations = []
    for _ in range(20):
        state.chance(faulty.rate_429)  # a request's fault draw between two creates
        job = state.create_job(model="sora-2", size="720x1280", seconds="4", prompt="a cat")
        durations.append(job.ends - job.started)

    assert durations == _durations(calm, 20)


def test_without_a_maximum_every_job_takes_job_seconds() -> None:
    config = SimulatorConfig(job_seconds=12, clock=ManualClock())

    assert _durations(config, 5) == [12] * 5


@pytest.mark.parametrize(("low", "high"), [(10, 5), (0, 5)], ids=["max-below-min", "zero-min"])
def test_a_bad_range_is_refused(low: float, high: float) -> None:
    with pytest.raises(ValidationError, match="job_seconds"):
        SimulatorConfig(job_seconds=low, job_seconds_max=high)


async def test_a_job_completes_at_its_own_end(start: StartSim) -> None:
    sim = await start(job_seconds=2, job_seconds_max=20, seed=1)
    videos = [await sim.create() for _ in range(5)]
    ends = {video["id"]: sim.state.jobs[video["id"]].ends for video in videos}
    assert len(set(ends.values())) == 5

    first_id = min(ends, key=lambda video_id: ends[video_id])
    sim.clock.advance(ends[first_id] - sim.clock.now)

    statuses = {video_id: (await sim.video(video_id))["status"] for video_id in ends}
    assert statuses.pop(first_id) == "completed"
    assert "completed" not in statuses.values()
