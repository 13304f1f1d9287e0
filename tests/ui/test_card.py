"""The status card: durations as people say them, the fields each state shows, what counts."""

from __future__ import annotations

from dataclasses import replace

import discord
import pytest

from bot.jobs.handoff import AGAIN, Step, add
from bot.jobs.requests import Lineage
from bot.storage.videos import NOT_STARTED
from bot.ui.card import (
    FAILURE_TEXT,
    PROMPT_SHOWN,
    deleted_card,
    shown_state,
    status_card,
)
from bot.ui.text import duration_text
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


def fields(embed: discord.Embed) -> dict[str, str]:
    return {str(f.name): str(f.value) for f in embed.fields}


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
    card = status_card(ROW, finishes_at=1_800_000_090.5)
    shown = fields(card)
    assert card.author.name == "🎬 Generating"
    assert card.colour == discord.Colour.blurple()
    assert card.description == ROW.prompt
    assert shown["By"] == "<@111>"
    assert (shown["Model"], shown["Size"], shown["Seconds"]) == ("sora-2", "720x1280", "8")
    assert shown["Progress"] == "▰▰▰▰▰▱▱▱▱▱▱▱ 40%"
    assert shown["Started"] == "<t:1800000000:R>"
    assert shown["Expected"] == "done <t:1800000090:R>"
    assert "Took" not in shown
    assert "Why" not in shown


def test_no_expected_finish_without_an_estimate() -> None:
    assert "Expected" not in fields(status_card(ROW))


def test_a_queued_job_shows_no_expected_finish_even_with_an_estimate() -> None:
    queued = replace(ROW, status="queued", progress=0)
    shown = fields(status_card(queued, finishes_at=1_800_000_090))
    assert "Expected" not in shown
    assert shown["Progress"].endswith(" 0%")
    assert status_card(queued).author.name == "⏳ Queued"


def test_a_finished_job_shows_how_long_it_took_and_no_progress() -> None:
    card = status_card(DONE, finishes_at=1_800_000_090)
    shown = fields(card)
    assert card.author.name == "✅ Done"
    assert card.colour == discord.Colour.green()
    assert shown["Took"] == "2 min 5 s"
    assert not {"Progress", "Started", "Expected", "Why"} & shown.keys()


def test_a_finished_job_without_a_finish_time_shows_no_duration() -> None:
    assert "Took" not in fields(status_card(replace(DONE, completed_at=None)))


@pytest.mark.parametrize(
    ("code", "message", "why"),
    [
        ("expired", "anything", "The provider no longer has this video's files."),
        ("not_confirmed", None, FAILURE_TEXT["not_confirmed"]),
        (
            "moderation_blocked",
            "blocked",
            "The provider's safety system blocked this. Try rewording the prompt.",
        ),
        ("server_error", "GPU fell over", "The provider could not make this video: GPU fell over"),
        (None, None, "The provider could not make this video: no reason given"),
    ],
)
def test_a_failed_job_says_why(code: str | None, message: str | None, why: str) -> None:
    failed = replace(ROW, status="failed", error_code=code, error_message=message)
    card = status_card(failed)
    assert card.author.name == "❌ Failed"
    assert card.colour == discord.Colour.red()
    assert fields(card)["Why"] == why
    assert "Progress" not in fields(card)


@pytest.mark.parametrize("code", ["server_error", NOT_STARTED])
def test_a_providers_long_error_is_shortened_within_discords_limits(code: str) -> None:
    message = "GPU fell over.\n" + "x" * 10_000
    card = status_card(replace(ROW, status="failed", error_code=code, error_message=message))
    why = fields(card)["Why"]
    assert why.endswith(": GPU fell over. " + "x" * 284 + "…")
    assert len(why) <= 1024
    assert len(card) <= 6000


def test_what_a_provider_echoes_is_shortened_within_discords_limits() -> None:
    echoed = replace(DONE, model="m" * 200_000, size="s" * 5000, seconds="9" * 5000, id="v" * 9000)
    card = status_card(echoed)
    shown = fields(card)
    assert (shown["Model"], shown["Size"]) == ("m" * 99 + "…", "s" * 99 + "…")
    assert shown["Seconds"] == "9" * 99 + "…"
    assert card.footer.text == f"#12 · {'v' * 511}…"
    assert len(card) <= 6000


def test_a_long_note_is_shortened_to_a_fields_limit() -> None:
    card = status_card(DONE, note="n" * 5000)
    note = fields(card)["Note"]
    assert (len(note), note[-1]) == (1024, "…")


def test_not_confirmed_says_what_retry_does() -> None:
    why = FAILURE_TEXT["not_confirmed"]
    assert "not among its videos" in why
    assert "Retry starts it again (a new job, billed again" in why


def test_the_footer_is_the_key_then_the_providers_id() -> None:
    assert status_card(ROW).footer.text == "#12 · video_68d7512d07848190"
    assert deleted_card(ROW, 5).footer.text == "#12 · video_68d7512d07848190"


def test_a_note_is_shown_last() -> None:
    card = status_card(DONE, note="Posting it failed.")
    assert (card.fields[-1].name, card.fields[-1].value) == ("Note", "Posting it failed.")


def test_the_lineage_names_the_parent_and_its_owner() -> None:
    parent = replace(ROW, key=3, owner_id=222, prompt="p" * 100)
    remix = replace(ROW, kind="remix", parent_id=parent.id)
    shown = fields(status_card(remix, Lineage.of(parent)))
    assert shown["Remix of"] == f"#3 by <@222>: {'p' * 80}…"
    extension = replace(ROW, kind="extend")
    assert "Extension of" in fields(status_card(extension, Lineage.of(parent)))


def test_a_long_prompt_is_shortened() -> None:
    card = status_card(replace(ROW, prompt="x" * (PROMPT_SHOWN + 1)))
    assert card.description == "x" * (PROMPT_SHOWN - 1) + "…"


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


def test_failover_card_says_what_the_bot_did_by_itself_and_who_made_it() -> None:
    handoff = add(add(None, Step("openrouter", "credits")), Step("local", AGAIN))
    embed = status_card(video_row(handoff=handoff, provider="local"))
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Provider"] == "local"
    assert fields["Sent"] == (
        "openrouter made nothing (its credits ran out), so it went to local.\n"
        "local did not answer, and its list showed nothing was made: sent to it once more,"
        " billed once."
    )


def test_failover_card_of_a_job_made_as_asked_says_nothing_of_it() -> None:
    names = [field.name for field in status_card(video_row()).fields]
    assert "Sent" not in names
    # One provider configured (the default): the card does not name it.
    assert "Provider" not in names
