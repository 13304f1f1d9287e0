"""The jobs core and spending know nothing of Discord or of the edge that shows them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# What the core may not import: Discord, and every part that imports it.
EDGE = ("discord", "bot.app", "bot.interactions", "bot.ui", "bot.delivery", "cogs")


def imported(path: Path) -> set[str]:
    """Every module `path` imports, TYPE_CHECKING blocks included (a circle all the same)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path",
    sorted((*ROOT.glob("bot/jobs/*.py"), *ROOT.glob("bot/spending/*.py"))),
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_the_core_imports_nothing_of_the_edge(path: Path) -> None:
    wrong = sorted(
        name
        for name in imported(path)
        for edge in EDGE
        if name == edge or name.startswith(f"{edge}.")
    )
    assert wrong == []
