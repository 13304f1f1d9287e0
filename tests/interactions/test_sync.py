"""Registered commands against the code's: only what a user sees of a command counts."""

from __future__ import annotations

from typing import Any

from bot.interactions.sync import compare


def command(name: str, **extra: Any) -> dict[str, Any]:
    option = {"name": "prompt", "type": 3, "description": "What it shows", "required": True}
    return {"name": name, "type": 1, "description": f"/{name}", "options": [option], **extra}


def test_discords_own_fields_and_defaults_are_not_differences() -> None:
    registered = command(
        "video", id="1", application_id="2", version="3", nsfw=False, contexts=None
    )
    registered["options"][0] |= {"autocomplete": False, "choices": []}
    assert not compare([command("video")], [registered])
    assert str(compare([command("video")], [registered])) == "in sync"


def test_new_changed_and_gone() -> None:
    changed = command("remix")
    changed["options"][0]["required"] = False
    diff = compare(
        [command("video"), command("remix"), command("help")],
        [
            command("video"),
            changed,
            command("old"),
            {"name": "Extend this", "type": 3, "description": ""},
        ],
    )
    assert diff.new == ["/help"]
    assert diff.changed == ["/remix"]
    assert diff.gone == ["/old", "Extend this"]
    assert str(diff) == (
        "not registered: /help; changed: /remix; no longer in the code: /old, Extend this"
    )
