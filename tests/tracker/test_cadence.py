from __future__ import annotations

from dataclasses import replace

import pytest

from bot.tracker.cadence import Cadence
from tests.rows import video_row

CADENCE = Cadence(base=5, floor=1, ceiling=30)
JOB = video_row(key=1, prompt="a cat", status="queued", progress=0, completed_at=None)


def test_a_new_queued_job_is_looked_at_soon() -> None:
    assert CADENCE.delay(JOB, now=1002) == 5


def test_a_long_queued_job_is_looked_at_less_often() -> None:
    assert CADENCE.delay(JOB, now=1080) == 20
    assert CADENCE.delay(JOB, now=5000) == 30


def test_progress_since_it_started_running_predicts_the_end() -> None:
    running = replace(JOB, status="in_progress", progress=50)
    # 10 points in 20 s since first seen at 40%: 50 points left take 100 s.
    assert CADENCE.predict(running, now=1100, since=(1080, 40)) == pytest.approx(1200)
    # Halfway to a predicted end 100 s away is 50 s: capped at 30.
    assert CADENCE.delay(running, now=1100, predicted_end=1200) == 30


def test_the_recent_pace_wins_when_progress_speeds_up() -> None:
    # Ease-in: 60 points in the first 100 s of running, then 30 in the last 10 s.
    running = replace(JOB, status="in_progress", progress=90)
    overall = CADENCE.predict(running, now=1110, since=(1000, 0))
    recent = CADENCE.predict(running, now=1110, since=(1000, 0), recent=(1100, 60))
    assert overall == pytest.approx(1110 + 10 * 110 / 90)
    assert recent == pytest.approx(1110 + 10 * 10 / 30)


def test_looks_close_in_on_the_predicted_end() -> None:
    running = replace(JOB, status="in_progress", progress=90)
    delays = [CADENCE.delay(running, now=now, predicted_end=1120) for now in (1100, 1110, 1115)]
    # Half the time left each time (20 s, 10 s, 5 s left), never under the floor.
    assert delays == [10, 5, 2.5]
    assert CADENCE.delay(running, now=1119.5, predicted_end=1120) == 1


def test_past_its_predicted_end_a_job_is_looked_at_less_often_up_to_the_base() -> None:
    running = replace(JOB, status="in_progress", progress=99)
    assert CADENCE.delay(running, now=1121, predicted_end=1120) == 1
    assert CADENCE.delay(running, now=1126, predicted_end=1120) == 3
    assert CADENCE.delay(running, now=1500, predicted_end=1120) == 5


def test_a_stall_means_looking_again_sooner_but_not_under_the_floor() -> None:
    running = replace(JOB, status="in_progress", progress=60)
    assert CADENCE.delay(running, now=1100, predicted_end=1300) == 30
    assert CADENCE.delay(running, now=1100, predicted_end=1300, stalled=True) == 5
    assert CADENCE.delay(running, now=1100, predicted_end=1101, stalled=True) == 1


def test_no_pace_yet_means_the_base_interval_and_no_prediction() -> None:
    running = replace(JOB, status="in_progress", progress=10)
    assert CADENCE.predict(running, now=1100, since=(1100, 10)) is None
    assert CADENCE.delay(running, now=1100) == 5
    assert CADENCE.predict(JOB, now=1100, since=(1000, 0)) is None  # queued


def test_the_providers_hint_wins_within_bounds() -> None:
    assert CADENCE.delay(JOB, now=1002, hint_ms=2500) == 2.5
    assert CADENCE.delay(JOB, now=1002, hint_ms=10) == 1


def test_a_look_far_from_the_end_may_wait_for_a_shared_page_but_not_near_it() -> None:
    assert CADENCE.wait_allowed(20, now=1000, predicted_end=None) == 10
    assert CADENCE.wait_allowed(20, now=1000, predicted_end=1100) == 10
    assert CADENCE.wait_allowed(10, now=1000, predicted_end=1030) == 0


def test_a_look_never_waits_past_the_ceiling_in_all() -> None:
    # Every tracked job is seen at least once every `ceiling` seconds, whatever it waits for.
    assert CADENCE.wait_allowed(25, now=1000, predicted_end=None) == 5
    assert CADENCE.wait_allowed(30, now=1000, predicted_end=1100) == 0
    longest = max(
        CADENCE.delay(JOB, now=now) + CADENCE.wait_allowed(CADENCE.delay(JOB, now=now), now, None)
        for now in range(1000, 5000, 7)
    )
    assert longest == CADENCE.ceiling


def test_the_floor_rises_with_the_pages_the_jobs_span_up_to_the_base() -> None:
    running = replace(JOB, status="in_progress", progress=90)
    near_end = {"now": 1119.5, "predicted_end": 1120}
    # One page a second at most for the quick looks: 3 pages, each every 3 s.
    assert CADENCE.delay(running, **near_end, pages=1) == 1
    assert CADENCE.delay(running, **near_end, pages=3) == 3
    assert CADENCE.delay(running, **near_end, pages=50) == 5
    assert CADENCE.delay(running, now=1100, predicted_end=1200, pages=50) == 30
    assert CADENCE.delay(JOB, now=1002, hint_ms=500, pages=2) == 2
