from __future__ import annotations

from dataclasses import replace

import pytest

from bot.tracker import Cadence
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
    # 10 points in 20 s since first seen at 40%: 50 points left take 100 s, capped at 30.
    assert CADENCE.delay(running, now=1100, since=(1080, 40)) == 30
    nearly = replace(running, progress=96)
    # 4 points left at 2 points a second: look again in 2 s, not after the time in the queue.
    assert CADENCE.delay(nearly, now=1100, since=(1090, 76)) == pytest.approx(2)


def test_no_pace_yet_means_the_base_interval() -> None:
    running = replace(JOB, status="in_progress", progress=10)
    assert CADENCE.delay(running, now=1100, since=(1100, 10)) == 5


def test_the_providers_hint_wins_within_bounds() -> None:
    assert CADENCE.delay(JOB, now=1002, hint_ms=2500) == 2.5
    assert CADENCE.delay(JOB, now=1002, hint_ms=10) == 1
