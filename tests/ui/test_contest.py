"""What members see of a contest: the announcement in each phase, entries, standings, the list,
and the Vote button that survives a restart."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, cast

import discord
import pytest

from bot.contests.phases import Phase
from bot.storage import ContestRow, EntryRow, Standing
from bot.ui.contest import (
    VOTE_TEMPLATE,
    VoteButton,
    announcement_card,
    choice_label,
    contest_list,
    entry_card,
    entry_view,
    jump_url,
    podium_caption,
    standings_card,
)
from tests import cards
from tests.e2e.fake_discord import check_components_v2, check_media_references

START = 1_800_000_000.0
CONTEST = ContestRow(
    id=7,
    guild_id=10,
    channel_id=20,
    announcement_id=None,
    thread_id=None,
    results_message_id=None,
    created_by=3,
    theme="a city under the sea",
    max_entries=2,
    vote_budget=3,
    live_counts=False,
    starts_at=START,
    submissions_end_at=START + 3600,
    voting_end_at=START + 7200,
    voting_announced_at=None,
    closed_at=None,
    cancelled_at=None,
)


def entry(entry_id: int, author_id: int = 100, prompt: str = "a whale in a tram") -> EntryRow:
    return EntryRow(
        id=entry_id,
        contest_id=CONTEST.id,
        video_id=f"video_{entry_id}",
        author_id=author_id,
        prompt=prompt,
        message_id=None,
        created_at=START + entry_id,
    )


def fields(embed: discord.Embed) -> dict[str, str]:
    return {str(f.name): str(f.value) for f in embed.fields}


def v2(layout: discord.ui.LayoutView, files: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """A Components V2 message as Discord gets it, checked against Discord's limits."""
    assert layout.timeout is None
    components = layout.to_components()
    check_components_v2({"components": components, "flags": 1 << 15})
    check_media_references(components, [{"filename": name} for name in files])
    return components


def test_the_announcement_while_entries_are_open() -> None:
    card = announcement_card(CONTEST, Phase.SUBMISSIONS)
    assert card.title == "🏆 Prompt contest: a city under the sea"
    assert card.colour == discord.Colour.blurple()
    assert card.description == (
        "Make a video on this theme with `/video`, then enter it with "
        "`/contest submit contest:7` before entries close. Each member may enter 2 videos made "
        "here after the start. Entries appear in the thread below; voting opens when entries "
        "close, with 3 votes per member."
    )
    assert fields(card) == {
        "Entries close": "<t:1800003600:R> (<t:1800003600:f>)",
        "Voting closes": "<t:1800007200:R> (<t:1800007200:f>)",
        "Status": "Open for entries",
    }
    assert card.footer.text == "Contest #7"


def test_one_entry_and_one_vote_are_singular() -> None:
    card = announcement_card(replace(CONTEST, max_entries=1, vote_budget=1), Phase.SUBMISSIONS)
    assert "Each member may enter 1 video made here" in str(card.description)
    assert str(card.description).endswith("with 1 vote per member.")


@pytest.mark.parametrize("phase", [Phase.VOTING, Phase.CLOSING])
def test_the_announcement_while_voting(phase: Phase) -> None:
    card = announcement_card(CONTEST, phase)
    assert card.colour == discord.Colour.gold()
    assert card.description == (
        "Voting is open! Press **Vote** on your favourite entries in the thread below: "
        "3 votes per member, not for your own, and pressing again takes a vote back."
    )
    assert fields(card)["Status"] == phase.value.capitalize()


def test_the_announcement_of_a_closed_contest_links_its_results() -> None:
    url = jump_url(10, 20, 30)
    assert url == "https://discord.com/channels/10/20/30"
    card = announcement_card(CONTEST, Phase.CLOSED, results_url=url)
    assert card.colour == discord.Colour.green()
    assert card.description == f"This contest is over. [See the results.]({url})"
    assert announcement_card(CONTEST, Phase.CLOSED).description == "This contest is over."


def test_the_announcement_of_a_cancelled_contest() -> None:
    card = announcement_card(CONTEST, Phase.CANCELLED)
    assert card.colour == discord.Colour.dark_grey()
    assert card.description == "This contest was cancelled."
    assert fields(card)["Status"] == "Cancelled"


def test_a_long_theme_is_cut_to_discords_title_limit() -> None:
    card = announcement_card(replace(CONTEST, theme="sea " * 200), Phase.SUBMISSIONS)
    assert card.title is not None
    assert len(card.title) == 256
    assert card.title.endswith("…")


def test_an_entry_names_its_author_and_its_contest() -> None:
    card = v2(entry_card(CONTEST, entry(4, author_id=55), note="Entered by a manager."))
    assert cards.heading(card) == "Entry #4"
    assert cards.texts(card)[1] == "a whale in a tram"
    assert cards.facts(card) == {"By": "<@55>", "Note": "Entered by a manager."}
    assert cards.subtext(card) == "Contest #7: a city under the sea"
    assert cards.facts(v2(entry_card(CONTEST, entry(4)))) == {"By": "<@100>"}


def test_gallery_an_entry_plays_its_video_above_its_vote_button() -> None:
    card = v2(entry_card(CONTEST, entry(4), media="video-9.mp4", votes=2), ("video-9.mp4",))
    assert cards.gallery(card) == ["attachment://video-9.mp4"]
    assert cards.button_rows(card) == [["videobot:v1:vote:4"]]
    kinds = [c["type"] for c in cards.containers(card)[0]["components"]]
    assert kinds[-3:] == [cards.GALLERY, cards.ROW, cards.TEXT]


def test_an_entrys_long_prompt_fits_discords_text_limit() -> None:
    card = v2(entry_card(CONTEST, entry(4, prompt="wave " * 1000), note="n" * 300))
    assert len(cards.texts(card)[1]) == 3000


def test_standings_with_no_entries() -> None:
    card = v2(standings_card(CONTEST, [], {}, final=True))
    assert cards.heading(card) == "🏆 Results: a city under the sea"
    assert cards.texts(card)[1:] == ["No entries were submitted.", "-# Contest #7"]


def test_standings_show_three_medals_then_the_rest_in_lines() -> None:
    votes = [5, 3, 1, 1, 0]
    standings = [
        Standing(
            place=i + 1, entry=entry(i + 1, author_id=200 + i, prompt=f"prompt {i + 1}"), votes=v
        )
        for i, v in enumerate(votes)
    ]
    links = {1: jump_url(10, 20, 301), 3: jump_url(10, 20, 303)}
    card = v2(standings_card(CONTEST, standings, links, final=False))
    assert cards.heading(card) == "📊 Standings so far: a city under the sea"
    assert cards.texts(card)[1:] == [
        "5 entries, 10 votes in all. Equal votes go to the earlier entry.",
        "**🥇 1st · 5 votes** <@200> · [entry](https://discord.com/channels/10/20/301)\n"
        "> prompt 1\n"
        "**🥈 2nd · 3 votes** <@201>\n"
        "> prompt 2\n"
        "**🥉 3rd · 1 vote** <@202> · [entry](https://discord.com/channels/10/20/303)\n"
        "> prompt 3",
        "**Also ran**\n4. <@203> · 1 vote: prompt 4\n5. <@204> · 0 votes: prompt 5",
        "-# Contest #7",
    ]
    assert cards.facts(card)["🥈 2nd · 3 votes"] == "<@201>"


def test_gallery_the_results_show_the_podiums_videos() -> None:
    standings = [
        Standing(i + 1, entry(i + 1, prompt=f"prompt {i + 1}"), votes=3 - i) for i in range(3)
    ]
    names = [f"{s.place}-entry-{s.entry.id}.mp4" for s in standings]
    media = [(name, podium_caption(s)) for name, s in zip(names, standings, strict=True)]
    card = v2(standings_card(CONTEST, standings, {}, final=True, media=media), tuple(names))
    assert cards.gallery(card) == [f"attachment://{name}" for name in names]
    [gallery] = [c for c in cards.walk(card) if c["type"] == cards.GALLERY]
    assert [i["description"] for i in gallery["items"]] == [
        "1st: prompt 1",
        "2nd: prompt 2",
        "3rd: prompt 3",
    ]


def test_the_longest_standings_fit_discords_text_limit() -> None:
    standings = [
        Standing(i + 1, entry(i + 1, author_id=10**18 + i, prompt="p" * 5000), votes=30 - i)
        for i in range(30)
    ]
    links = {i + 1: jump_url(10**18, 10**18, 10**18 + i) for i in range(30)}
    card = v2(standings_card(replace(CONTEST, theme="t" * 500), standings, links, final=True))
    assert sum(len(t) for t in cards.texts(card)) <= 4000


def test_standings_of_one_entry_are_singular() -> None:
    card = v2(standings_card(CONTEST, [Standing(1, entry(1), votes=1)], {}, final=True))
    assert cards.texts(card)[1] == "1 entry, 1 vote in all. Equal votes go to the earlier entry."


def test_the_list_of_contests_says_what_is_next_for_each() -> None:
    voting = replace(CONTEST, id=8, theme="deserts")
    over = replace(CONTEST, id=9, theme="forests")
    card = contest_list(
        [CONTEST, voting, over], {7: Phase.SUBMISSIONS, 8: Phase.VOTING, 9: Phase.CLOSED}
    )
    assert card.description == (
        "**#7** a city under the sea: open for entries, entries close <t:1800003600:R>\n"
        "**#8** deserts: voting, voting closes <t:1800007200:R>\n"
        "**#9** forests: closed"
    )


def test_an_empty_list_says_how_to_start_one() -> None:
    assert contest_list([], {}).description == (
        "No contests here yet. A manager can start one with `/contest start`."
    )


def test_a_contest_choice_is_cut_to_its_label() -> None:
    assert choice_label(CONTEST, Phase.VOTING) == "#7 a city under the sea · voting"
    long = choice_label(replace(CONTEST, theme="x" * 200), Phase.CLOSED)
    assert long == "#7 " + "x" * 76 + "…" + " · closed"


async def test_the_vote_button_carries_its_entry_through_a_restart() -> None:
    view = entry_view(42, votes=3)
    assert view.timeout is None
    [button] = view.children
    assert isinstance(button, VoteButton)
    assert button.item.custom_id == "videobot:v1:vote:42"
    assert button.item.label == "Vote · 3"
    assert button.item.style is discord.ButtonStyle.primary
    assert not button.item.disabled
    # After a restart discord.py finds the button by its template and rebuilds it from the id.
    match = re.fullmatch(VOTE_TEMPLATE, str(button.item.custom_id))
    assert match is not None
    rebuilt = await VoteButton.from_custom_id(cast(Any, None), button.item, match)
    assert rebuilt.entry_id == 42


async def test_a_closed_contests_vote_button_is_greyed_out() -> None:
    [button] = entry_view(42, disabled=True).children
    assert isinstance(button, VoteButton)
    assert button.item.label == "Vote"
    assert button.item.disabled
    assert button.item.style is discord.ButtonStyle.secondary
