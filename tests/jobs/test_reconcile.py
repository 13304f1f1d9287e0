"""Finding the job a lost create made: which listed video matches a row, and which one is it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from bot.jobs.reconcile import CLOCK_SLACK, PAGE, WINDOW, look, matches
from bot.videoapi.errors import InternalServerError, VideoAPIError
from bot.videoapi.models import ListOrder, Operation, Video, VideoPage
from tests.rows import video_row

SENT = 1_800_000_000.0
ROW = video_row(
    id="videobot-submitting:abc",
    status="queued",
    progress=0,
    created_at=int(SENT),
    updated_at=SENT,
    completed_at=None,
    submitting_since=SENT,
)


def video(video_id: str = "video_1", **changes: Any) -> Video:
    body: dict[str, Any] = {
        "id": video_id,
        "status": "queued",
        "prompt": "a red kite",
        "model": "sora-2",
        "size": "720x1280",
        "seconds": "4",
        "created_at": int(SENT) + 2,
    }
    return Video.model_validate(body | changes)


# -- matches ---------------------------------------------------------------------------------


def test_the_same_job_matches() -> None:
    assert matches(video(), ROW)


@pytest.mark.parametrize(
    "changes",
    [
        {"prompt": "a blue kite"},
        {"model": "sora-2-pro"},
        {"size": "1280x720"},
        {"seconds": "8"},
    ],
    ids=["prompt", "model", "size", "seconds"],
)
def test_any_field_that_differs_does_not_match(changes: dict[str, str]) -> None:
    assert not matches(video(**changes), ROW)


def test_surrounding_whitespace_does_not_count() -> None:
    assert matches(video(prompt="  a red kite\n", size=" 720x1280 "), ROW)


@pytest.mark.parametrize("missing", ["prompt", "model", "size", "seconds", "created_at"])
def test_a_field_the_provider_leaves_out_matches_anything(missing: str) -> None:
    body = video().model_dump()
    del body[missing]
    assert matches(Video.model_validate(body), ROW)


def test_a_video_that_echoes_nothing_matches() -> None:
    assert matches(Video.model_validate({"id": "video_bare", "status": "queued"}), ROW)


def test_a_row_not_submitting_matches_nothing() -> None:
    assert not matches(video(), replace(ROW, submitting_since=None))


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        pytest.param(-CLOCK_SLACK - 1, False, id="before-the-slack"),
        pytest.param(-CLOCK_SLACK, True, id="at-the-slack"),
        pytest.param(-5, True, id="a-clock-a-little-behind"),
        pytest.param(0, True, id="at-once"),
        pytest.param(WINDOW, True, id="end-of-the-window"),
        pytest.param(WINDOW + 1, False, id="after-the-window"),
    ],
)
def test_the_time_window_with_clock_slack(offset: float, expected: bool) -> None:
    assert matches(video(created_at=int(SENT + offset)), ROW) is expected


# -- look: finding the job -------------------------------------------------------------------


class ListingApi:
    """What a look asks of the client: whether it lists, and one page, newest first."""

    def __init__(
        self,
        videos: Sequence[Video] = (),
        *,
        lists: bool | None = True,
        error: VideoAPIError | None = None,
        has_more: bool = False,
    ) -> None:
        self._videos = list(videos)
        self._has_more = has_more
        self._lists = lists
        self._error = error
        self.asked: list[tuple[int | None, ListOrder | None]] = []

    def supports(self, operation: Operation) -> bool | None:
        assert operation is Operation.LIST
        return self._lists

    async def list(self, *, limit: int | None = None, order: ListOrder | None = None) -> VideoPage:
        self.asked.append((limit, order))
        if self._error is not None:
            raise self._error
        return VideoPage(data=self._videos, has_more=self._has_more)


class Known:
    def __init__(self, *ids: str) -> None:
        self._ids = set(ids)
        self.asked: list[list[str]] = []

    async def __call__(self, ids: Sequence[str]) -> set[str]:
        self.asked.append(list(ids))
        return self._ids & set(ids)


async def test_it_asks_for_the_newest_page_and_finds_the_job() -> None:
    api = ListingApi([video("video_other", prompt="a dog"), video("video_kite")])
    found = (await look(api, ROW, Known())).video  # type: ignore[arg-type]
    assert found is not None
    assert found.id == "video_kite"
    assert api.asked == [(PAGE, "desc")]


async def test_a_provider_known_not_to_list_is_not_asked() -> None:
    api = ListingApi([video()], lists=False)
    assert (await look(api, ROW, Known())).video is None  # type: ignore[arg-type]
    assert api.asked == []


async def test_a_provider_not_yet_known_to_list_is_asked() -> None:
    api = ListingApi([video()], lists=None)
    assert (await look(api, ROW, Known())).video is not None  # type: ignore[arg-type]


async def test_a_list_error_finds_nothing() -> None:
    api = ListingApi(error=InternalServerError("down", status=500))
    assert (await look(api, ROW, Known())).video is None  # type: ignore[arg-type]
    assert api.asked == [(PAGE, "desc")]


async def test_nothing_matching_finds_nothing_without_asking_the_database() -> None:
    known = Known()
    api = ListingApi([video(prompt="a dog"), video(created_at=int(SENT - 3600))])
    assert (await look(api, ROW, known)).video is None  # type: ignore[arg-type]
    assert known.asked == []


async def test_ids_already_known_are_skipped() -> None:
    known = Known("video_taken")
    api = ListingApi([video("video_taken", created_at=int(SENT)), video("video_free")])
    found = (await look(api, ROW, known)).video  # type: ignore[arg-type]
    assert found is not None
    assert found.id == "video_free"
    assert known.asked == [["video_taken", "video_free"]]


async def test_only_known_ids_find_nothing() -> None:
    api = ListingApi([video("video_taken")])
    assert (await look(api, ROW, Known("video_taken"))).video is None  # type: ignore[arg-type]


async def test_the_closest_in_time_wins() -> None:
    api = ListingApi(
        [
            video("video_late", created_at=int(SENT + 200)),
            video("video_close", created_at=int(SENT - 3)),
            video("video_later", created_at=int(SENT + 20)),
        ]
    )
    found = (await look(api, ROW, Known())).video  # type: ignore[arg-type]
    assert found is not None
    assert found.id == "video_close"


# -- look: what proves nothing was made (the ground for sending a create again) ------------------


async def test_failover_proof_a_whole_list_without_the_job_found_nothing() -> None:
    api = ListingApi([video(prompt="a dog"), video(created_at=int(SENT - 3600))])
    seen = await look(api, ROW, Known())  # type: ignore[arg-type]
    assert (seen.video, seen.complete, seen.found_nothing) == (None, True, True)


async def test_failover_proof_a_match_another_row_holds_is_not_this_job() -> None:
    seen = await look(ListingApi([video("video_taken")]), ROW, Known("video_taken"))  # type: ignore[arg-type]
    assert seen.found_nothing


async def test_failover_proof_a_found_job_is_not_nothing() -> None:
    seen = await look(ListingApi([video()]), ROW, Known())  # type: ignore[arg-type]
    assert seen.video is not None
    assert not seen.found_nothing


@pytest.mark.parametrize(
    ("oldest", "complete"),
    [
        pytest.param(SENT - CLOCK_SLACK - 1, True, id="reaches-before-the-call"),
        pytest.param(SENT - CLOCK_SLACK, False, id="inside-the-slack"),
        pytest.param(None, False, id="undated"),
    ],
)
async def test_failover_proof_a_page_cut_short_proves_only_what_it_reaches(
    oldest: float | None, complete: bool
) -> None:
    last = video("video_oldest", prompt="a dog", created_at=None if oldest is None else int(oldest))
    api = ListingApi([video("video_new", prompt="a cat"), last], has_more=True)
    seen = await look(api, ROW, Known())  # type: ignore[arg-type]
    assert (seen.video, seen.complete) == (None, complete)


@pytest.mark.parametrize(
    "api",
    [
        pytest.param(ListingApi(lists=False), id="no-list"),
        pytest.param(ListingApi(error=InternalServerError("down", status=500)), id="list-fails"),
    ],
)
async def test_failover_proof_none_without_a_list(api: ListingApi) -> None:
    seen = await look(api, ROW, Known())  # type: ignore[arg-type]
    assert (seen.video, seen.found_nothing) == (None, False)
