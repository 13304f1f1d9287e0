"""Reading a Components V2 message as a member sees it: its text, its facts, its gallery.

Shared by the unit tests of the layouts (on `LayoutView.to_components()`) and the end-to-end
tests (on the messages the fake Discord keeps): both are the same JSON.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

JSON = dict[str, Any]

CONTAINER, TEXT, GALLERY, ROW = 17, 10, 12, 1
# "**Model** sora-2 · **Size** 720x1280": a name in bold, its value up to the next name.
FACT = re.compile(r"\*\*(?P<name>[^*\n]+)\*\* (?P<value>.*?)(?= · \*\*[^*\n]+\*\* |\n|$)")


def walk(components: Iterable[JSON]) -> Iterable[JSON]:
    for component in components:
        yield component
        yield from walk(component.get("components") or [])
        if isinstance(component.get("accessory"), dict):
            yield from walk([component["accessory"]])


def texts(components: Iterable[JSON]) -> list[str]:
    """Every text display's content, in the order shown."""
    return [c["content"] for c in walk(components) if c["type"] == TEXT]


def containers(components: Iterable[JSON]) -> list[JSON]:
    return [c for c in components if c["type"] == CONTAINER]


def heading(components: Iterable[JSON]) -> str:
    """The first heading (`### …`): a card's status."""
    return next((t[4:] for t in texts(components) if t.startswith("### ")), "")


def facts(components: Iterable[JSON]) -> dict[str, str]:
    """Every named value: "**Model** sora-2" -> {"Model": "sora-2"}."""
    found: dict[str, str] = {}
    for text in texts(components):
        for match in FACT.finditer(text):
            found.setdefault(match["name"], match["value"])
    return found


def subtext(components: Iterable[JSON]) -> str:
    """The small text at the bottom (`-# …`): a card's `#key · provider id`."""
    return next((t[3:] for t in reversed(texts(components)) if t.startswith("-# ")), "")


def gallery(components: Iterable[JSON]) -> list[str]:
    """The media urls of every gallery, in order."""
    return [
        item["media"]["url"]
        for c in walk(components)
        if c["type"] == GALLERY
        for item in c["items"]
    ]


def button_rows(components: Iterable[JSON]) -> list[list[str]]:
    """The custom ids of each action row, in order."""
    return [
        [b["custom_id"] for b in c["components"] if "custom_id" in b]
        for c in walk(components)
        if c["type"] == ROW
    ]
