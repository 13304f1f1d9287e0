"""A job's life on the simulator's clock: queued, in progress, then completed or failed."""

from __future__ import annotations

from bot.videoapi.models import VideoError

from .harness import Sim, StartSim


async def test_create_answers_a_queued_job_with_every_field(sim: Sim) -> None:
    video = await sim.create(model="sora-2-pro", size="1280x720", seconds="8")

    assert video["id"].startswith("video_")
    assert video == {
        "id": video["id"],
        "object": "video",
        "model": "sora-2-pro",
        "status": "queued",
        "progress": 0,
        "created_at": int(sim.clock.now),
        "completed_at": None,
        "expires_at": None,
        "prompt": "a calico cat playing a piano",
        "size": "1280x720",
        "seconds": "8",
        "remixed_from_video_id": None,
        "error": None,
    }


async def test_defaults_come_from_the_profile(sim: Sim) -> None:
    video = await sim.create()

    assert (video["model"], video["size"], video["seconds"]) == ("sora-2", "720x1280", "4")


async def test_status_and_progress_follow_the_clock(start: StartSim) -> None:
    sim = await start(job_seconds=10, queued_fraction=0.2)
    video = await sim.create()
    seen: list[tuple[str, int]] = []
    for _ in range(11):
        current = await sim.video(video["id"])
        seen.append((current["status"], current["progress"]))
        sim.clock.advance(1)

    statuses = [status for status, _ in seen]
    assert statuses[:2] == ["queued", "queued"]
    assert set(statuses[2:10]) == {"in_progress"}
    assert statuses[10] == "completed"
    progress = [value for _, value in seen]
    assert progress == sorted(progress)
    assert all(0 <= value <= 99 for status, value in seen if status == "in_progress")
    assert progress[-1] == 100


async def test_completed_job_has_completion_and_expiry(sim: Sim) -> None:
    created = sim.clock.now
    video = await sim.create()
    sim.clock.advance(10)

    done = await sim.video(video["id"])

    assert done["status"] == "completed"
    assert done["completed_at"] == int(created + 10)
    assert done["expires_at"] == done["completed_at"] + 86_400
    assert done["error"] is None


async def test_zero_job_seconds_completes_at_once(start: StartSim) -> None:
    sim = await start(job_seconds=0)

    video = await sim.create()

    assert (video["status"], video["progress"]) == ("completed", 100)


async def test_forced_failure_shows_the_error(sim: Sim) -> None:
    video = await sim.create()

    sim.state.fail(video["id"], VideoError(code="internal_error", message="GPU caught fire"))
    failed = await sim.video(video["id"])

    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "internal_error", "message": "GPU caught fire"}
    assert (failed["completed_at"], failed["expires_at"]) == (None, None)


async def test_forced_completion_skips_the_wait(sim: Sim) -> None:
    video = await sim.create()

    sim.state.complete(video["id"])

    assert (await sim.video(video["id"]))["status"] == "completed"


async def test_unknown_video_is_404(sim: Sim) -> None:
    response = await sim.client.get("videos/video_missing")

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"
