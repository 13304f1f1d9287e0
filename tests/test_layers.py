"""The layers, read from the source (ast), nothing imported: a core that knows no Discord, no module
cycles, and tests that hand parts in instead of setting their private fields.

`lint-imports` (the contracts in pyproject.toml) holds the same lines between packages; these tests
also see a package's `__init__` as a module of its own, and run with pytest alone."""

from __future__ import annotations

import ast
import graphlib
import tomllib
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The Discord-free core, as the import-linter contract `core` in pyproject.toml names it: one list
# for both checks. The edge (bot.interactions, bot.ui, bot.delivery, bot.app, cogs) turns the core's
# work into Discord messages.
_CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]["contracts"]
CORE: tuple[str, ...] = tuple(next(c for c in _CONTRACTS if c["id"] == "core")["source_modules"])


def _name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _sources() -> dict[str, Path]:
    """Every module of bot/ and cogs/ by its dotted name."""
    return {_name(p): p for folder in ("bot", "cogs") for p in (ROOT / folder).rglob("*.py")}


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Each name an import statement brings, with its line, wherever the statement sits (under
    TYPE_CHECKING or in a function too): `from a import b` gives both `a` and `a.b`."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(_parse(path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def _graph() -> tuple[dict[str, set[str]], dict[str, list[tuple[str, int]]]]:
    """The import edges between our modules, and for each module the external names it imports."""
    modules = _sources()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    external: dict[str, list[tuple[str, int]]] = {m: [] for m in modules}
    for module, path in modules.items():
        for name, line in _imports(module, path):
            target = name
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module:
                edges[module].add(target)
            elif not target:
                external[module].append((name, line))
    return edges, external


def test_no_core_module_imports_discord() -> None:
    _, external = _graph()
    # A renamed package would leave the check with nothing to look at.
    assert CORE
    assert set(CORE) <= set(external), set(CORE) - set(external)
    offences = [
        f"{module} line {line}: {name}"
        for module, names in external.items()
        if module in CORE or module.startswith(tuple(f"{c}." for c in CORE))
        for name, line in names
        if name.partition(".")[0] == "discord"
    ]
    assert offences == []


def test_the_modules_import_each_other_without_a_cycle() -> None:
    edges, _ = _graph()
    try:
        graphlib.TopologicalSorter(edges).prepare()
    except graphlib.CycleError as cycle:
        raise AssertionError(f"import cycle: {' -> '.join(cycle.args[1])}") from None


def _private_fields_of_parts() -> set[str]:
    """Every `self._name` that a class in bot/ or cogs/ assigns: the private state of the parts."""
    return {
        node.attr
        for path in _sources().values()
        for node in ast.walk(_parse(path))
        if isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Store)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
    }


def test_no_test_sets_a_private_field_of_a_part() -> None:
    """A test passes a cadence, a clock or a repository in; setting `tracker._cadence` would test a
    bot that the wiring never builds. A test's own objects (`self._x`) are its business."""
    fields = _private_fields_of_parts()
    offences = []
    for path in sorted((ROOT / "tests").rglob("*.py")):
        for node in ast.walk(_parse(path)):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.ctx, ast.Store)
                and node.attr in fields
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            ):
                offences.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node)}")
    assert offences == []
