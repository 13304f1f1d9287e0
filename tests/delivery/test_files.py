"""A finished job's files as Discord takes them: the limit, fitting the MP4, the thumbnail."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from bot.delivery.files import (
    BOT_UPLOAD_LIMIT,
    GONE,
    MIB,
    UPLOAD_MARGIN,
    Expired,
    FittedCache,
    ResultFiles,
    Undeliverable,
    discord_file,
    upload_limit,
)
from bot.errors import UserError
from bot.media import pool as media_pool
from bot.media.frames import FrameError
from bot.media.pool import MediaFailed
from bot.ui.text import size_text
from bot.videoapi.models import ContentVariant, Upload
from tests.rows import video_row

from .stubs import StubAssets, StubFit

LIMIT = 10 * MIB
BUDGET = int(LIMIT * UPLOAD_MARGIN)
ROW = video_row(id="video_abc/def=")


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[FittedCache]:
    kept = FittedCache(folder=tmp_path / "cache")
    yield kept
    kept.close()


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
    assert files[0].data == tmp_path / "video-7.mp4"
    assert fit.calls == []
    assert assets.fetched == [("video_abc/def=", "video", "video-7.mp4", None)]


async def test_a_video_over_the_budget_is_reencoded_to_fit(
    tmp_path: Path, cache: FittedCache
) -> None:
    assets, fit = StubAssets({"video": BUDGET + 1}), StubFit(BUDGET // 2)
    files, note = await ResultFiles(assets, fit, cache).for_card(ROW, tmp_path, LIMIT)  # type: ignore[arg-type]
    assert note is None
    # Into the cache, and linked into the caller's folder from there.
    kept = tmp_path / "cache" / f"7-{BUDGET}.mp4"
    assert fit.calls == [(tmp_path / "video-7.mp4", kept, BUDGET)]
    assert [(f.data, f.filename, f.size) for f in files] == [
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
    assert (upload.data.name, upload.filename, upload.size) == (
        "fitted-video-7.mp4",
        "video-7.mp4",
        1000,
    )
    assert fit.calls[0][2] == BUDGET


async def test_a_video_asset_that_cannot_fit_says_so(tmp_path: Path) -> None:
    files = ResultFiles(StubAssets({"video": 25 * MIB}), StubFit(None))  # type: ignore[arg-type]
    with pytest.raises(UserError, match=r"The video is 25 MiB, .* the 10 MiB upload limit here"):
        await files.asset(ROW, "video", tmp_path, LIMIT)


# -- fitted once per (video, limit) ----------------------------------------------------------


@pytest.fixture
def asks(tmp_path: Path) -> list[Path]:
    folders = [tmp_path / f"ask{n}" for n in range(4)]
    for folder in folders:
        folder.mkdir()
    return folders


async def test_a_reencode_is_kept_per_video_and_limit(asks: list[Path], cache: FittedCache) -> None:
    assets, fit = StubAssets({"video": LIMIT}), StubFit(1000)
    files = ResultFiles(assets, fit, cache)  # type: ignore[arg-type]
    for folder in asks[:3]:
        upload = await files.asset(ROW, "video", folder, LIMIT)
        assert (upload.data, upload.size) == (folder / "fitted-video-7.mp4", 1000)
    # Asked again at the same limit: neither downloaded nor encoded again.
    assert len(fit.calls) == 1
    assert [variant for _, variant, _, _ in assets.fetched] == ["video"]
    # Another limit is another re-encode.
    await files.asset(ROW, "video", asks[3], LIMIT // 2)
    assert [limit for _, _, limit in fit.calls] == [BUDGET, int(LIMIT // 2 * UPLOAD_MARGIN)]


@pytest.mark.parametrize("variant", ["thumbnail", "spritesheet"])
async def test_a_still_is_fetched_once_per_video(
    asks: list[Path], cache: FittedCache, variant: ContentVariant
) -> None:
    assets = StubAssets({variant: 40_000})
    files = ResultFiles(assets, StubFit(1), cache)  # type: ignore[arg-type]
    for folder in asks:
        upload = await files.asset(ROW, variant, folder, LIMIT)
        assert (upload.data, upload.size) == (folder / f"video-7-{variant}.webp", 40_000)
    assert [fetched for _, fetched, _, _ in assets.fetched] == [variant]


async def test_a_video_that_cannot_fit_is_found_so_once(
    asks: list[Path], cache: FittedCache
) -> None:
    fit = StubFit(None)
    files = ResultFiles(StubAssets({"video": 25 * MIB}), fit, cache)  # type: ignore[arg-type]
    for folder in asks:
        with pytest.raises(UserError, match="The video is 25 MiB"):
            await files.asset(ROW, "video", folder, LIMIT)
    assert len(fit.calls) == 1


async def test_asked_at_once_a_video_is_fitted_once(asks: list[Path], cache: FittedCache) -> None:
    release = asyncio.Event()

    class SlowFit(StubFit):
        async def __call__(self, source: Path, dest: Path, limit: int) -> None:
            await release.wait()
            await super().__call__(source, dest, limit)

    assets, fit = StubAssets({"video": LIMIT}), SlowFit(1000)
    files = ResultFiles(assets, fit, cache)  # type: ignore[arg-type]
    asked = [asyncio.create_task(files.asset(ROW, "video", f, LIMIT)) for f in asks]
    await asyncio.sleep(0)
    release.set()
    uploads = await asyncio.gather(*asked)
    assert [u.size for u in uploads] == [1000] * len(asks)
    assert len(fit.calls) == 1
    assert len(assets.fetched) == 1


async def test_the_least_recently_used_reencode_leaves_first(
    tmp_path: Path, asks: list[Path]
) -> None:
    cache = FittedCache(max_bytes=2500, folder=tmp_path / "cache")
    files = ResultFiles(StubAssets({"video": LIMIT}), StubFit(1000), cache)  # type: ignore[arg-type]
    rows = [replace(ROW, key=key, id=f"video_{key}") for key in (1, 2, 3)]
    await files.asset(rows[0], "video", asks[0], LIMIT)
    await files.asset(rows[1], "video", asks[1], LIMIT)
    await files.asset(rows[0], "video", asks[2], LIMIT)  # used again: now the newest
    await files.asset(rows[2], "video", asks[3], LIMIT)
    kept = sorted(path.name for path in (tmp_path / "cache").iterdir())
    assert kept == [f"1-{BUDGET}.mp4", f"3-{BUDGET}.mp4"]
    # The link a caller holds outlives its entry.
    assert (asks[1] / "fitted-video-2.mp4").stat().st_size == 1000
    cache.close()
    assert not (tmp_path / "cache").exists()


async def test_a_reencode_out_of_time_or_memory_sends_the_thumbnail(
    tmp_path: Path, cache: FittedCache
) -> None:
    class FailingFit(StubFit):
        async def __call__(self, source: Path, dest: Path, limit: int) -> None:
            raise MediaFailed("reencode took longer than 300 s and was stopped")

    assets = StubAssets({"video": 30 * MIB, "thumbnail": 40_000})
    files, note = await ResultFiles(assets, FailingFit(None), cache).for_card(ROW, tmp_path, LIMIT)  # type: ignore[arg-type]
    assert [f.filename for f in files] == ["video-7-thumbnail.webp"]
    assert note is not None
    assert note.endswith("so this is its thumbnail.")


# -- what can never be posted ----------------------------------------------------------------


async def test_a_file_that_is_not_a_video_is_undeliverable(
    tmp_path: Path, cache: FittedCache
) -> None:
    not_a_video = FrameError("the provider's file for this video is not a video")
    assets = StubAssets({}, failures=[not_a_video])
    with pytest.raises(Undeliverable) as caught:
        await ResultFiles(assets, StubFit(1), cache).for_card(ROW, tmp_path, LIMIT)  # type: ignore[arg-type]
    assert caught.value.reason == "The provider's file for this video is not a video."
    # Asked for by a member, the same reason is the answer.
    assets.failures.append(not_a_video)
    with pytest.raises(UserError, match=r"^The provider's file for this video is not a video\.$"):
        await ResultFiles(assets, StubFit(1), cache).asset(ROW, "video", tmp_path, LIMIT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "failure",
    [
        FrameError("the picture is 7680x4320, over the 9.4 megapixels I decode"),
        MediaFailed("thumbnail needed more than 1024 MiB"),
    ],
)
async def test_a_video_too_big_with_no_thumbnail_to_make_is_undeliverable(
    tmp_path: Path, cache: FittedCache, failure: Exception
) -> None:
    assets = StubAssets({"video": 30 * MIB})
    files = ResultFiles(assets, StubFit(None), cache)  # type: ignore[arg-type]
    assets.failures = []
    fetch = assets.fetch

    async def thumbnail_fails(
        video_id: str,
        variant: ContentVariant,
        dest: Path,
        *,
        source: Path | None = None,
        provider: str | None = None,
    ) -> Path:
        if variant == "thumbnail":
            raise failure
        return await fetch(video_id, variant, dest, source=source)

    assets.fetch = thumbnail_fails  # type: ignore[method-assign]
    with pytest.raises(Undeliverable) as caught:
        await files.for_card(ROW, tmp_path, LIMIT)
    assert caught.value.reason == (
        "The video is 30 MiB, and even re-encoded it would not fit the 10 MiB upload limit here, "
        f"and no thumbnail could be made of it: {failure}."
    )


async def test_a_still_that_cannot_be_made_is_a_plain_answer(
    tmp_path: Path, cache: FittedCache
) -> None:
    refused = FrameError("the picture is 7680x4320, over the 9.4 megapixels I decode")
    files = ResultFiles(StubAssets({}, failures=[refused]), StubFit(1), cache)  # type: ignore[arg-type]
    with pytest.raises(
        UserError, match=r"^The picture is 7680x4320, over the 9\.4 megapixels I decode\.$"
    ):
        await files.asset(ROW, "spritesheet", tmp_path, LIMIT)


async def test_an_upload_opens_afresh_each_time(tmp_path: Path) -> None:
    path = tmp_path / "video-7.mp4"
    path.write_bytes(b"mp4")
    upload = Upload("video-7.mp4", "video/mp4", path)
    first, second = discord_file(upload), discord_file(upload)
    try:
        assert first is not second
        assert (first.filename, second.filename) == ("video-7.mp4", "video-7.mp4")
    finally:
        first.close()
        second.close()


async def test_a_members_request_is_media_work_for_a_member_and_a_card_is_not(
    tmp_path: Path, cache: FittedCache
) -> None:
    lanes: list[bool] = []

    class Recording(StubAssets):
        async def fetch(
            self,
            video_id: str,
            variant: ContentVariant,
            dest: Path,
            *,
            source: Path | None = None,
            provider: str | None = None,
        ) -> Path:
            lanes.append(media_pool._FOR_MEMBER.get())
            return await super().fetch(video_id, variant, dest, source=source, provider=provider)

    files = ResultFiles(Recording({"video": 1, "thumbnail": 1}), StubFit(1), cache)  # type: ignore[arg-type]
    await files.asset(ROW, "thumbnail", tmp_path, LIMIT)
    await files.for_card(ROW, tmp_path, LIMIT)
    assert lanes == [True, False]


def test_a_cache_nobody_closes_leaves_no_folder_behind() -> None:
    cache = FittedCache()
    folder = cache.scratch((7, BUDGET)).parent
    assert folder.is_dir()
    del cache
    gc.collect()
    assert not folder.exists()


async def test_an_upload_in_memory_is_attached_too() -> None:
    attached = discord_file(Upload("reference.png", "image/png", b"png bytes"))
    try:
        assert (attached.filename, attached.fp.read()) == ("reference.png", b"png bytes")
    finally:
        attached.close()
