"""Autocomplete for `video` options: labels within Discord's 100 characters, and only the videos
the caller may see, each chosen by its `#key`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import SqliteDatabase, VideoRepository
from bot.ui.choices import LABEL_MAX, choice_label, offer_label, video_choices
from bot.videoapi.providers import Offer
from tests.rows import video_row
from tests.storage.helpers import GUILD, MEMBER, OTHER_GUILD, OWNER, Clock, add_video


def test_a_label_is_the_prompt_then_status_and_length() -> None:
    row = video_row(prompt="a red kite over the dunes", status="in_progress", seconds="8")
    assert choice_label(row) == "a red kite over the dunes · in progress · 8s"


def test_a_long_prompt_is_cut_at_a_word_to_fit_the_label() -> None:
    row = video_row(prompt="a kite " * 40, status="completed", seconds="12")
    label = choice_label(row)
    assert label == "a kite " * 11 + "a… · completed · 12s"
    assert len(label) <= LABEL_MAX


def test_the_prompts_lines_and_spaces_become_one_line() -> None:
    row = video_row(prompt="a kite\n\nover   the dunes", status="queued", seconds="4")
    assert choice_label(row) == "a kite over the dunes · queued · 4s"


@pytest.fixture
async def videos(tmp_path: Path) -> AsyncIterator[VideoRepository]:
    async with await SqliteDatabase.open(tmp_path / "videobot.sqlite3") as db:
        yield VideoRepository(db, clock=Clock())


async def test_the_choices_are_the_callers_visible_videos_by_key(videos: VideoRepository) -> None:
    kite = await add_video(videos, "kite", prompt="a red kite")
    owl = await add_video(videos, "owl", owner_id=MEMBER, prompt="an owl at night")
    # Another member's video from another server is not theirs to see here.
    await add_video(
        videos, "elsewhere", owner_id=MEMBER, guild_id=OTHER_GUILD, prompt="a kite elsewhere"
    )

    choices = await video_choices(videos, OWNER, GUILD, "", status=None)

    assert [(c.name, c.value) for c in choices] == [
        (choice_label(owl), owl.ref),
        (choice_label(kite), kite.ref),
    ]
    assert kite.ref.startswith("#")


async def test_what_the_caller_typed_narrows_the_choices(videos: VideoRepository) -> None:
    kite = await add_video(videos, "kite", prompt="a red kite")
    await add_video(videos, "owl", prompt="an owl at night")

    choices = await video_choices(videos, OWNER, GUILD, "  kite ", status=None)

    assert [c.value for c in choices] == [kite.ref]


async def test_a_status_narrows_the_choices(videos: VideoRepository) -> None:
    done = await add_video(videos, "done", status="completed", progress=100)
    await add_video(videos, "queued")

    choices = await video_choices(videos, OWNER, GUILD, "", status="completed")

    assert [c.value for c in choices] == [done.ref]


def test_create_form_model_label_shows_the_price_within_discords_limit() -> None:
    assert offer_label(Offer("sora-2", "default", 0.1), named=False) == "sora-2 · $0.10/s"
    long = offer_label(Offer("m" * 200, "default", 0.3))
    assert len(long) == LABEL_MAX
    assert long.endswith("…")
