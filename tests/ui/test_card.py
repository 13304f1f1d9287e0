"""The status card: durations as people say them, what each state shows (as Components V2),
what counts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import discord
import pytest

from bot.interactions.buttons import result_buttons, waiting_buttons
from bot.jobs.handoff import AGAIN, Step, add
from bot.jobs.requests import Lineage
from bot.storage import VideoRow
from bot.storage.videos import NOT_STARTED
from bot.ui.card import (
    FAILURE_TEXT,
    PROMPT_SHOWN,
    cancelled_card,
    deleted_card,
    shown_state,
    status_card,
)
from bot.ui.text import duration_text
from tests import cards
from tests.e2e.fake_discord import DiscordError, check_components_v2, check_media_references
from tests.rows import video_row

ROW = video_row(
    key=12,
    id="video_68d7512d07848190",
    owner_id=111,
    prompt="a red kite over the dunes",
    seconds="8",
    status="in_progress",
    progress=40,
    cost=0.8,
    created_at=1_800_000_000,
    updated_at=1_800_000_010.0,
    completed_at=None,
)
DONE = replace(ROW, status="completed", progress=100, completed_at=ROW.created_at + 125)


class Card:
    """A card as Discord gets it (Components V2), checked against Discord's limits."""

    def __init__(self, layout: discord.ui.LayoutView, files: tuple[str, ...] = ()) -> None:
        assert layout.timeout is None  # its buttons keep working
        assert layout.has_components_v2()
        self.components = layout.to_components()
        check_components_v2({"components": self.components, "flags": 1 << 15})
        check_media_references(self.components, [{"filename": name} for name in files])
        [self.container] = cards.containers(self.components)

    @property
    def status(self) -> str:
        return cards.heading(self.components)

    @property
    def colour(self) -> discord.Colour:
        return discord.Colour(self.container["accent_color"])

    @property
    def texts(self) -> list[str]:
        return cards.texts(self.components)

    @property
    def prompt(self) -> str:
        return self.texts[1]

    @property
    def footer(self) -> str:
        return cards.subtext(self.components)

    @property
    def text_length(self) -> int:
        return sum(len(t) for t in self.texts)


def card(job: VideoRow, *args: Any, files: tuple[str, ...] = (), **kwargs: Any) -> Card:
    return Card(status_card(job, *args, media=files, **kwargs), files)


def fields(shown: Card) -> dict[str, str]:
    return cards.facts(shown.components)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (14, "14 s"),
        (0, "0 s"),
        (59, "59 s"),
        (60, "1 min 0 s"),
        (125, "2 min 5 s"),
        (3599, "59 min 59 s"),
        (3600, "1 h 0 min"),
        (3780, "1 h 3 min"),
        (3789, "1 h 3 min"),
        (-5, "0 s"),
    ],
)
def test_duration_text(seconds: int, text: str) -> None:
    assert duration_text(seconds) == text


def test_a_running_job_shows_progress_start_and_the_expected_finish() -> None:
    running = card(ROW, finishes_at=1_800_000_090.5)
    shown = fields(running)
    assert running.status == "🎬 Generating"
    assert running.colour == discord.Colour.blurple()
    assert running.prompt == ROW.prompt
    assert shown["By"] == "<@111>"
    assert (shown["Model"], shown["Size"], shown["Seconds"]) == ("sora-2", "720x1280", "8")
    assert shown["Progress"] == "▰▰▰▰▰▱▱▱▱▱▱▱ 40%"
    assert shown["Started"] == "<t:1800000000:R>"
    assert shown["Expected"] == "done <t:1800000090:R>"
    assert "Took" not in shown
    assert "Why" not in shown


def test_no_expected_finish_without_an_estimate() -> None:
    assert "Expected" not in fields(card(ROW))


def test_a_queued_job_shows_no_expected_finish_even_with_an_estimate() -> None:
    queued = replace(ROW, status="queued", progress=0)
    shown = fields(card(queued, finishes_at=1_800_000_090))
    assert "Expected" not in shown
    assert shown["Progress"].endswith(" 0%")
    assert card(queued).status == "⏳ Queued"


def test_a_finished_job_shows_how_long_it_took_and_no_progress() -> None:
    done = card(DONE, finishes_at=1_800_000_090)
    shown = fields(done)
    assert done.status == "✅ Done"
    assert done.colour == discord.Colour.green()
    assert shown["Took"] == "2 min 5 s"
    assert not {"Progress", "Started", "Expected", "Why"} & shown.keys()


def test_a_finished_job_without_a_finish_time_shows_no_duration() -> None:
    assert "Took" not in fields(card(replace(DONE, completed_at=None)))


@pytest.mark.parametrize(
    ("code", "message", "why"),
    [
        ("expired", "anything", "The provider no longer has this video's files."),
        ("not_confirmed", None, FAILURE_TEXT["not_confirmed"]),
        ("server_error", "GPU fell over", "The provider could not make this video: GPU fell over"),
        (None, None, "The provider could not make this video: no reason given"),
    ],
)
def test_a_failed_job_says_why(code: str | None, message: str | None, why: str) -> None:
    failed = replace(ROW, status="failed", error_code=code, error_message=message)
    shown = card(failed)
    assert shown.status == "❌ Failed"
    assert shown.colour == discord.Colour.red()
    assert fields(shown)["Why"] == why
    assert "Progress" not in fields(shown)


@pytest.mark.parametrize("code", ["moderation_blocked", "content_policy_violation"])
def test_prompt_rules_a_providers_safety_refusal_is_a_card_state_of_its_own(code: str) -> None:
    blocked = replace(ROW, status="failed", error_code=code, error_message="Flagged by policy.")
    shown = card(blocked)
    assert shown.status == "🛡️ Blocked by the provider's safety system"
    assert shown.colour == discord.Colour.dark_orange()
    assert fields(shown)["Why"] == FAILURE_TEXT["moderation_blocked"]
    assert "nothing is charged" in fields(shown)["Why"]


@pytest.mark.parametrize("code", ["server_error", NOT_STARTED])
def test_a_providers_long_error_is_shortened_within_discords_limits(code: str) -> None:
    message = "GPU fell over.\n" + "x" * 10_000
    shown = card(replace(ROW, status="failed", error_code=code, error_message=message))
    why = fields(shown)["Why"]
    assert why.endswith(": GPU fell over. " + "x" * 284 + "…")
    assert len(why) <= 1024


def test_what_a_provider_echoes_is_shortened_within_discords_limits() -> None:
    echoed = replace(DONE, model="m" * 200_000, size="s" * 5000, seconds="9" * 5000, id="v" * 9000)
    echoing = card(echoed)
    shown = fields(echoing)
    assert (shown["Model"], shown["Size"]) == ("m" * 99 + "…", "s" * 99 + "…")
    assert shown["Seconds"] == "9" * 99 + "…"
    assert echoing.footer == f"#12 · {'v' * 511}…"


def test_a_long_note_is_shortened() -> None:
    shown = card(DONE, note="n" * 5000)
    note = fields(shown)["Note"]
    assert (len(note), note[-1]) == (1024, "…")


def test_not_confirmed_says_what_retry_does() -> None:
    why = FAILURE_TEXT["not_confirmed"]
    assert "not among its videos" in why
    assert "Retry starts it again (a new job, billed again" in why


def test_the_footer_is_the_key_then_the_providers_id() -> None:
    assert card(ROW).footer == "#12 · video_68d7512d07848190"
    assert Card(deleted_card(ROW, 5)).footer == "#12 · video_68d7512d07848190"


def test_a_note_is_shown_last() -> None:
    shown = card(DONE, note="Posting it failed.")
    assert shown.texts[-2] == "**Note** Posting it failed."


def test_the_lineage_names_the_parent_and_its_owner() -> None:
    parent = replace(ROW, key=3, owner_id=222, prompt="p" * 100)
    remix = replace(ROW, kind="remix", parent_id=parent.id)
    shown = fields(card(remix, Lineage.of(parent)))
    assert shown["Remix of"] == f"#3 by <@222>: {'p' * 80}…"
    extension = replace(ROW, kind="extend")
    assert "Extension of" in fields(card(extension, Lineage.of(parent)))


def test_a_long_prompt_is_shortened() -> None:
    shown = card(replace(ROW, prompt="x" * (PROMPT_SHOWN + 1)))
    assert shown.prompt == "x" * (PROMPT_SHOWN - 1) + "…"


def test_shown_state_changes_with_what_the_card_shows() -> None:
    base = shown_state(ROW)
    for changed in (
        replace(ROW, status="completed"),
        replace(ROW, progress=41),
        replace(ROW, error_code="expired"),
        replace(ROW, deleted_at=1.0),
    ):
        assert shown_state(changed) != base


def test_shown_state_ignores_what_the_card_does_not_show() -> None:
    same = replace(ROW, updated_at=ROW.updated_at + 60, expires_at=1, delivery_attempts=3)
    assert shown_state(same) == shown_state(ROW)


# -- Components V2: one layout for every state ------------------------------------------------


def test_components_v2_every_state_is_one_coloured_container_within_discords_limits() -> None:
    states = {
        "⏳ Queued": replace(ROW, status="queued", progress=0),
        "🎬 Generating": ROW,
        "✅ Done": DONE,
        "❌ Failed": replace(ROW, status="failed", error_code="timeout"),
    }
    colours = set()
    for status, row in states.items():
        shown = card(row)
        assert shown.status == status
        colours.add(shown.colour)
    assert len(colours) == len(states)
    waiting = card(replace(ROW, status="queued", progress=0, waiting_since=1.0), position=2)
    assert waiting.status == "⏸️ Waiting for a free slot, number 2 in line"
    assert waiting.colour not in colours


def test_components_v2_a_done_card_plays_its_mp4_with_the_result_buttons_beside_it() -> None:
    name = f"video-{DONE.key}.mp4"
    buttons = result_buttons(DONE, frozenset())
    shown = card(DONE, files=(name,), buttons=buttons)
    assert cards.gallery(shown.components) == [f"attachment://{name}"]
    kinds = [c["type"] for c in shown.container["components"]]
    # The gallery, then the buttons (five to a row), then the footer.
    assert kinds[-4:] == [cards.GALLERY, cards.ROW, cards.ROW, cards.TEXT]
    rows = cards.button_rows(shown.components)
    assert rows == [[b.custom_id for b in buttons[:5]], [b.custom_id for b in buttons[5:]]]


def test_components_v2_a_running_card_has_no_gallery_and_a_waiting_one_its_cancel() -> None:
    assert cards.gallery(card(ROW).components) == []
    assert cards.button_rows(card(ROW).components) == []
    queued = replace(ROW, status="queued", progress=0, waiting_since=1.0)
    shown = card(queued, buttons=waiting_buttons(queued))
    assert cards.button_rows(shown.components) == [[f"videobot:v2:cancel:{ROW.key}"]]


def test_components_v2_the_longest_card_stays_inside_discords_text_and_component_limits() -> None:
    worst = replace(
        DONE,
        prompt="p" * 50_000,
        model="m" * 5000,
        size="s" * 5000,
        seconds="9" * 5000,
        id="v" * 9000,
        kind="remix",
        status="failed",
        error_code="server_error",
        error_message="e" * 50_000,
    )
    parent = replace(ROW, key=3, owner_id=222, prompt="q" * 5000)
    shown = card(
        worst,
        Lineage.of(parent),
        "n" * 50_000,
        files=("video-12-thumbnail.webp",),
        buttons=result_buttons(DONE, frozenset()),
        lead="<@111> here is your video's status.",
    )
    assert shown.text_length <= 4000


def test_components_v2_a_lead_line_sits_above_the_card() -> None:
    layout = status_card(ROW, lead="<@111> extends this video.")
    first, second = layout.to_components()
    assert first == {"type": cards.TEXT, "content": "<@111> extends this video."}
    assert second["type"] == cards.CONTAINER


def test_components_v2_the_tombstones_carry_no_buttons_and_no_media() -> None:
    for layout in (deleted_card(ROW, 5), cancelled_card(ROW)):
        shown = Card(layout)
        assert cards.button_rows(shown.components) == []
        assert cards.gallery(shown.components) == []
    assert "cancelled this video" in Card(cancelled_card(ROW)).texts[0]


def test_components_v2_a_gallery_naming_a_file_not_sent_is_refused() -> None:
    with pytest.raises(DiscordError):
        Card(status_card(DONE, media=["video-12.mp4"]), files=("video-13.mp4",))


def test_failover_card_says_what_the_bot_did_by_itself_and_who_made_it() -> None:
    handoff = add(add(None, Step("openrouter", "credits")), Step("local", AGAIN))
    found = fields(card(video_row(handoff=handoff, provider="local")))
    assert found["Provider"] == "local"
    assert found["Sent"] == (
        "openrouter made nothing (its credits ran out), so it went to local. "
        "local did not answer, and its list showed nothing was made: sent to it once more,"
        " billed once."
    )


def test_failover_card_of_a_job_made_as_asked_says_nothing_of_it() -> None:
    found = fields(card(video_row()))
    assert "Sent" not in found
    # One provider configured (the default): the card does not name it.
    assert "Provider" not in found
