"""A finished job's files as Discord takes them: the limit, fitting the MP4, the thumbnail."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.delivery.files import (
    BOT_UPLOAD_LIMIT,
    GONE,
    MIB,
    UPLOAD_MARGIN,
    Expired,
    ResultFiles,
    Upload,
    size_text,
    upload_limit,
)
from bot.errors import UserError
from tests.rows import video_row

from .stubs import StubAssets, StubFit

LIMIT = 10 * MIB
BUDGET = int(LIMIT * UPLOAD_MARGIN)
ROW = video_row(id="video_abc/def=")


class Guild:
    def __init__(self, filesize_limit: int) -> None:
        self.filesize_limit = filesize_limit


# -- the limit and sizes ---------------------------------------------------------------------


def test_the_interactions_limit_wins() -> None:
    assert upload_limit(8 * MIB, Guild(100 * MIB)) == 8 * MIB  # type: ignore[arg-type]
    assert upload_limit(500 * MIB, None) == 500 * MIB


def test_a_guilds_limit_is_at_least_the_bots_default() -> None:
    # discord.py still reports 10 MiB for tiers 0 and 1; bots get 20 MiB.
    assert upload_limit(None, Guild(10 * MIB)) == BOT_UPLOAD_LIMIT == 20 * MIB  # type: ignore[arg-type]
    assert upload_limit(None, Guild(50 * MIB)) == 50 * MIB  # type: ignore[arg-type]
    assert upload_limit(0, Guild(100 * MIB)) == 100 * MIB  # type: ignore[arg-type]


def test_a_dm_gets_the_bots_default() -> None:
    assert upload_limit(None, None) == BOT_UPLOAD_LIMIT


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (10 * MIB, "10 MiB"),
        (MIB, "1 MiB"),
        (12 * MIB + MIB // 2, "12.5 MiB"),
        (MIB + 1, "1.0 MiB"),
        (50_000, "48.8 KiB"),
        (512, "0.5 KiB"),
    ],
)
def test_size_text(size: int, text: str) -> None:
    assert size_text(size) == text


# -- what a card carries ---------------------------------------------------------------------


async def test_a_video_that_fits_goes_as_it_is(tmp_path: Path) -> None:
    assets, fit = StubAssets({"video": BUDGET}), StubFit(1)
    files, note = await ResultFiles(assets, fit).for_card(ROW, tmp_path, LIMIT)  # type: ignore[arg-type]
    assert note is None
    assert [(f.filename, f.size, f.is_video) for f in files] == [("video-7.mp4", BUDGET, True)]
    assert files[0].path == tmp_path / "video-7.mp4"
    assert fit.calls == []
    assert assets.fetched == [("video_abc/def=", "video", "video-7.mp4", None)]


async def test_a_video_over_the_budget_is_reencoded_to_fit(tmp_path: Path) -> None:
    assets, fit = StubAssets({"video": BUDGET + 1}), StubFit(BUDGET // 2)
    files, note = await ResultFiles(assets, fit).for_card(ROW, tmp_path, LIMIT)  # type: ignore[arg-type]
    assert note is None
    assert fit.calls == [(tmp_path / "video-7.mp4", tmp_path / "fitted-video-7.mp4", BUDGET)]
    assert [(f.path, f.filename, f.size) for f in files] == [
        (tmp_path / "fitted-video-7.mp4", "video-7.mp4", BUDGET // 2)
    ]


async def test_a_video_that_cannot_fit_sends_its_thumbnail_naming_the_sizes(
    tmp_path: Path,
) -> None:
    assets, fit = StubAssets({"video": 30 * MIB, "thumbnail": 40_000}), StubFit(None)
    files, note = await ResultFiles(assets, fit).for_card(ROW, tmp_path, LIMIT)  # type: ignore[arg-type]
    assert [(f.filename, f.is_video) for f in files] == [("video-7-thumbnail.webp", False)]
    assert note == (
        "The video is 30 MiB, and even re-encoded it would not fit the 10 MiB upload limit "
        "here, so this is its thumbnail."
    )
    # The thumbnail may be made from the MP4 already here.
    assert assets.fetched[-1] == (
        "video_abc/def=",
        "thumbnail",
        "video-7-thumbnail.webp",
        tmp_path / "video-7.mp4",
    )


@pytest.mark.parametrize("status", ["queued", "in_progress", "failed"])
async def test_an_unfinished_or_failed_job_carries_no_files(tmp_path: Path, status: str) -> None:
    assets = StubAssets({"video": 1})
    row = replace(ROW, status=status)  # type: ignore[arg-type]
    assert await ResultFiles(assets, StubFit(1)).for_card(row, tmp_path, LIMIT) == ([], None)  # type: ignore[arg-type]
    assert assets.fetched == []


async def test_files_gone_at_the_provider_are_expired(tmp_path: Path) -> None:
    files = ResultFiles(StubAssets({}, gone=True), StubFit(1))  # type: ignore[arg-type]
    with pytest.raises(Expired, match=GONE):
        await files.for_card(ROW, tmp_path, LIMIT)
    with pytest.raises(Expired):
        await files.asset(ROW, "thumbnail", tmp_path, LIMIT)


# -- one file for /videos download and the buttons -------------------------------------------


async def test_an_image_asset_is_sent_whatever_its_size(tmp_path: Path) -> None:
    assets, fit = StubAssets({"spritesheet": LIMIT * 2}), StubFit(1)
    upload = await ResultFiles(assets, fit).asset(ROW, "spritesheet", tmp_path, LIMIT)  # type: ignore[arg-type]
    assert (upload.filename, upload.size) == ("video-7-spritesheet.webp", LIMIT * 2)
    assert fit.calls == []


async def test_the_video_asset_is_fitted(tmp_path: Path) -> None:
    assets, fit = StubAssets({"video": LIMIT}), StubFit(1000)
    upload = await ResultFiles(assets, fit).asset(ROW, "video", tmp_path, LIMIT)  # type: ignore[arg-type]
    assert (upload.path.name, upload.filename, upload.size) == (
        "fitted-video-7.mp4",
        "video-7.mp4",
        1000,
    )
    assert fit.calls[0][2] == BUDGET


async def test_a_video_asset_that_cannot_fit_says_so(tmp_path: Path) -> None:
    files = ResultFiles(StubAssets({"video": 25 * MIB}), StubFit(None))  # type: ignore[arg-type]
    with pytest.raises(UserError, match=r"The video is 25 MiB, .* the 10 MiB upload limit here"):
        await files.asset(ROW, "video", tmp_path, LIMIT)


async def test_fitted_keeps_a_video_at_the_budget_and_reports_one_that_cannot(
    tmp_path: Path,
) -> None:
    video = tmp_path / "video-7.mp4"
    video.write_bytes(b"\0" * 100)
    upload = Upload(video, "video-7.mp4")
    fit = StubFit(None)
    files = ResultFiles(StubAssets({}), fit)  # type: ignore[arg-type]
    assert await files.fitted(upload, ROW, 100) is upload
    assert fit.calls == []
    assert await files.fitted(upload, ROW, 99) is None
    assert [limit for _, _, limit in fit.calls] == [99]


async def test_an_upload_opens_afresh_each_time(tmp_path: Path) -> None:
    path = tmp_path / "video-7.mp4"
    path.write_bytes(b"mp4")
    upload = Upload(path, "video-7.mp4")
    first, second = upload.open(), upload.open()
    try:
        assert first is not second
        assert (first.filename, second.filename) == ("video-7.mp4", "video-7.mp4")
    finally:
        first.close()
        second.close()
