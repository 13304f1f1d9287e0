"""The one home of the bot's wording helpers: excerpts, Discord timestamps, plurals, lists."""

from __future__ import annotations

import pytest

from bot.ui.text import excerpt, join, plural, timestamp


@pytest.mark.parametrize(
    ("text", "limit", "shown"),
    [
        ("a cat", 5, "a cat"),
        ("a  cat\non a\tboard", 100, "a cat on a board"),
        ("a cat on a board", 8, "a cat o…"),
    ],
)
def test_an_excerpt_is_one_line_within_its_limit(text: str, limit: int, shown: str) -> None:
    assert excerpt(text, limit) == shown
    assert len(excerpt(text, limit)) <= limit


def test_an_excerpt_may_keep_its_lines() -> None:
    assert excerpt("line one\nline two", 100, one_line=False) == "line one\nline two"
    assert excerpt("line one\nline two", 12, one_line=False) == "line one\nli…"


@pytest.mark.parametrize(
    ("unix", "style", "text"),
    [
        (1_767_225_600, "R", "<t:1767225600:R>"),
        (1_767_225_600.9, "R", "<t:1767225600:R>"),
        (1_767_225_600, "f", "<t:1767225600:f>"),
    ],
)
def test_a_timestamp_is_discords_markup(unix: float, style: str, text: str) -> None:
    assert timestamp(unix, style) == text


def test_a_timestamp_is_relative_unless_told() -> None:
    assert timestamp(60) == "<t:60:R>"


@pytest.mark.parametrize(
    ("count", "many", "text"),
    [(0, None, "0 votes"), (1, None, "1 vote"), (2, None, "2 votes"), (2, "entries", "2 entries")],
)
def test_plural(count: int, many: str | None, text: str) -> None:
    one = "entry" if many else "vote"
    assert plural(count, one, many) == text


@pytest.mark.parametrize(
    ("words", "last", "text"),
    [
        (["Attach Files"], "and", "Attach Files"),
        (["send messages", "attach files"], "or", "send messages or attach files"),
        (["View", "Send", "Embed"], "and", "View, Send and Embed"),
    ],
)
def test_join(words: list[str], last: str, text: str) -> None:
    assert join(words, last) == text
    assert join(iter(words), last) == text
