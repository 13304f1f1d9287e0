"""Other servers' dialects read as the contract: status names, missing and retyped fields."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.simulator.state import Job
from bot.videoapi.lenient import STATUS_ALIASES
from bot.videoapi.models import Character, Video, VideoError

from .helpers import video_json

ISO_CREATED = "2024-04-10T00:00:00Z"
ISO_CREATED_AT = 1_712_707_200


def read(**fields: Any) -> Video:
    """A Video read from a minimal answer: an id and whatever the test gives."""
    return Video.model_validate({"id": "video_1", **fields})


@pytest.mark.parametrize(
    ("said", "status"),
    [
        ("queued", "queued"),
        ("pending", "queued"),
        ("submitted", "queued"),
        ("in_progress", "in_progress"),
        ("processing", "in_progress"),
        ("running", "in_progress"),
        ("started", "in_progress"),
        ("generating", "in_progress"),
        ("completed", "completed"),
        ("succeeded", "completed"),
        ("success", "completed"),
        ("done", "completed"),
        ("failed", "failed"),
        ("error", "failed"),
        ("cancelled", "failed"),
        ("canceled", "failed"),
        ("expired", "failed"),
        (" Succeeded ", "completed"),
        ("PROCESSING", "in_progress"),
    ],
)
def test_every_status_alias_is_one_of_the_contracts_four(said: str, status: str) -> None:
    video = read(status=said)
    assert video.status == status
    assert video.unknown_status is None


def test_the_alias_table_covers_exactly_the_parametrized_names() -> None:
    # A new alias must come with a row above.
    assert set(STATUS_ALIASES) == {
        "queued",
        "pending",
        "submitted",
        "in_progress",
        "processing",
        "running",
        "started",
        "generating",
        "completed",
        "succeeded",
        "success",
        "done",
        "failed",
        "error",
        "cancelled",
        "canceled",
        "expired",
    }


@pytest.mark.parametrize(("said", "word"), [("warming_up", "warming_up"), ("  Paused ", "paused")])
def test_an_unknown_status_reads_as_still_running(said: str, word: str) -> None:
    video = read(status=said, progress=40)
    assert video.status == "in_progress"
    assert video.unknown_status == word
    assert not video.finished


def test_a_missing_status_reads_as_still_running() -> None:
    video = read()
    assert video.status == "in_progress"
    assert video.unknown_status == "(none)"


@pytest.mark.parametrize(
    ("status", "progress"),
    [("completed", 100), ("succeeded", 100), ("queued", 0), ("running", 0), ("failed", 0)],
)
def test_missing_progress_is_derived_from_the_status(status: str, progress: int) -> None:
    assert read(status=status).progress == progress
    assert read(status=status, progress=None).progress == progress


@pytest.mark.parametrize(
    ("given", "progress"),
    [(150, 100), (-5, 0), (42.7, 42), ("55", 55), ("55.5", 55), (100, 100), (0, 0)],
)
def test_progress_is_clamped_and_retyped(given: object, progress: int) -> None:
    assert read(status="in_progress", progress=given).progress == progress


@pytest.mark.parametrize(
    ("given", "text"),
    [(8, "8"), (8.0, "8"), (8.5, "8.5"), ("8", "8"), (" 8 ", "8"), ("", None), (True, None)],
)
def test_seconds_and_size_given_as_numbers_become_strings(given: object, text: str | None) -> None:
    video = read(status="queued", seconds=given, size=given)
    assert video.seconds == text
    assert video.size == text


@pytest.mark.parametrize(
    ("given", "created_at"),
    [
        (1_712_697_600, 1_712_697_600),
        (1_712_697_600.9, 1_712_697_600),
        ("1712697600", 1_712_697_600),
        ("1712697600.5", 1_712_697_600),
        (ISO_CREATED, ISO_CREATED_AT),
        ("2024-04-10T02:00:00+02:00", ISO_CREATED_AT),
        # Without a zone, the time is read as UTC.
        ("2024-04-10T00:00:00", ISO_CREATED_AT),
        ("yesterday", None),
        ("", None),
        ([1, 2], None),
        ({"seconds": 1}, None),
        (True, None),
        (None, None),
    ],
)
def test_created_at_is_read_from_numbers_strings_and_iso_times(
    given: object, created_at: int | None
) -> None:
    assert read(status="queued", created_at=given).created_at == created_at


@pytest.mark.parametrize(
    "given",
    [
        pytest.param("1e999", id="overflowing-string"),
        pytest.param("inf", id="inf-string"),
        pytest.param("-Infinity", id="minus-infinity-string"),
        pytest.param("nan", id="nan-string"),
        pytest.param(float("inf"), id="inf-float"),
        pytest.param(float("nan"), id="nan-float"),
    ],
)
def test_non_finite_times_are_dropped_not_a_failed_answer(given: object) -> None:
    # "a field that cannot be read is dropped, never a failed refresh" (lenient.py)
    video = read(status="queued", created_at=given, completed_at=given, progress=given)
    assert video.created_at is None
    assert video.completed_at is None
    assert video.progress == 0


def test_a_non_finite_progress_in_json_is_dropped_not_a_failed_answer() -> None:
    # Python's json and pydantic's parser both accept NaN; some servers emit it.
    video = Video.model_validate_json('{"id": "video_1", "status": "running", "progress": NaN}')
    assert (video.status, video.progress) == ("in_progress", 0)


@pytest.mark.parametrize(
    "given",
    [
        pytest.param(0, id="zero-as-litellm-answers-for-runway-and-fal"),
        pytest.param(-5, id="negative"),
        pytest.param("1970-01-01T00:00:00Z", id="the-epoch-as-a-time"),
        pytest.param(4_102_444_800, id="year-2100"),
        pytest.param(1_796_000_000_000, id="milliseconds"),
    ],
)
def test_an_impossible_created_at_is_none_so_the_bots_own_time_stands(given: object) -> None:
    """A job 'created' in 1970 was given up as timed out a second after it started."""
    assert read(status="queued", created_at=given).created_at is None


def test_a_created_at_a_little_ahead_is_a_clock_difference_and_kept() -> None:
    soon = int(time.time()) + 40 * 86_400
    assert read(status="queued", created_at=soon).created_at == soon


def test_completed_and_expires_at_are_read_like_created_at() -> None:
    video = read(status="completed", completed_at=ISO_CREATED, expires_at="1712793600")
    assert video.completed_at == ISO_CREATED_AT
    assert video.expires_at == 1_712_793_600


def test_a_bare_answer_parses_with_every_optional_field_missing() -> None:
    video = read(status="queued")
    assert (video.model, video.size, video.seconds, video.created_at, video.prompt) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert video.object == "video"
    assert video.error is None


def test_an_answer_of_another_object_type_is_still_a_video() -> None:
    assert read(status="queued", object="video.generation").object == "video"


def test_a_failure_given_as_a_string_becomes_an_error_object() -> None:
    video = read(status="failed", error="  the GPU ran out of memory ")
    assert video.error == VideoError(code="error", message="the GPU ran out of memory")


def test_a_failure_given_as_an_object_without_a_code() -> None:
    video = read(status="failed", error={"message": "Blocked by policy."})
    assert video.error == VideoError(code="error", message="Blocked by policy.")


def test_a_failure_with_a_code_only_uses_it_as_the_message() -> None:
    video = read(status="error", error={"code": 500})
    assert video.error == VideoError(code="500", message="500")


@pytest.mark.parametrize(
    ("status", "message"),
    [
        ("cancelled", "The provider cancelled this job."),
        ("canceled", "The provider cancelled this job."),
        ("expired", "The provider let this job expire before it finished."),
    ],
)
def test_a_job_ended_without_an_error_gets_a_reason(status: str, message: str) -> None:
    video = read(status=status)
    assert video.status == "failed"
    assert video.error == VideoError(code=status, message=message)


def test_a_cancelled_job_keeps_the_error_the_server_gave() -> None:
    video = read(status="cancelled", error={"code": "user_cancelled", "message": "by the user"})
    assert video.error == VideoError(code="user_cancelled", message="by the user")


def test_a_plain_failure_without_an_error_has_none() -> None:
    assert read(status="failed").error is None


@pytest.mark.parametrize("status", ["queued", "processing", "completed", "mystery"])
def test_an_error_on_a_job_that_did_not_fail_is_dropped(status: str) -> None:
    video = read(status=status, error={"code": "stale", "message": "from an earlier try"})
    assert video.error is None


@pytest.mark.parametrize(
    "answer",
    [
        video_json(),
        video_json(status="in_progress", progress=37, prompt=None),
        video_json(
            status="completed",
            progress=100,
            completed_at=1_712_697_700,
            expires_at=1_712_784_100,
            remixed_from_video_id="video_000",
        ),
        video_json(status="failed", error={"code": "moderation_blocked", "message": "Blocked."}),
    ],
)
def test_a_contract_answer_round_trips_unchanged(answer: dict[str, Any]) -> None:
    video = Video.model_validate(answer)
    assert video.model_dump() == answer
    assert Video(**answer).model_dump() == answer
    assert video.unknown_status is None


@pytest.mark.parametrize("now", [0.0, 5.0, 50.0])
def test_the_simulators_own_answers_round_trip_unchanged(now: float) -> None:
    job = Job(
        id="video_sim",
        model="sora-2",
        size="720x1280",
        seconds="4",
        prompt="a cat",
        remixed_from=None,
        started=0.0,
        queued_until=2.0,
        ends=20.0,
        failure=None,
    )
    answer = job.video_at(now).model_dump(mode="json")
    assert Video.model_validate(answer).model_dump(mode="json") == answer


def test_a_character_without_created_at() -> None:
    assert Character.model_validate({"id": "char_1", "name": "Whiskers"}).created_at is None


@pytest.mark.parametrize(
    ("given", "created_at"),
    [("1712697600", 1_712_697_600), (ISO_CREATED, ISO_CREATED_AT), ("soon", None)],
)
def test_a_characters_created_at_as_a_string(given: str, created_at: int | None) -> None:
    character = Character.model_validate({"id": "char_1", "created_at": given})
    assert character.created_at == created_at


def test_fields_of_a_servers_own_are_not_kept() -> None:
    video = read(status="queued", routing={"blob": "x" * 100_000}, debug=["y"] * 1000)
    assert video.model_extra in (None, {})
    assert "routing" not in video.model_dump()


def test_a_providers_error_text_is_kept_only_so_far() -> None:
    video = read(status="failed", error={"code": "x" * 5000, "message": "y" * 100_000})
    assert video.error == VideoError(code="x" * 1000, message="y" * 1000)
