"""The lock files in requirements/ agree with pyproject.toml, carry hashes, stay past the known
advisories, and are what the Dockerfile installs."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCKS = ROOT / "requirements"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# The first release of each package free of the advisories named; floors and pins sit at or above.
FIXED = {
    "aiohttp": ("3.14.3", "GHSA-cq5v-8q36-5273, GHSA-mfx4-hv73-q22v, GHSA-mq44-7p77-q5h7"),
    "pillow": ("12.3.0", "GHSA-9hw9-ch79-4vh6, GHSA-vjc4-5qp5-m44j and six more"),
    "av": ("17.1.0", "CVE-2026-40962 in the FFmpeg its wheels carry"),
    "pytest": ("9.0.3", "CVE-2025-71176"),
    "h11": ("0.16.0", "CVE-2025-43859"),
    "pip": ("25.3", "CVE-2025-8869"),
}
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
_HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


@dataclass(frozen=True)
class Pin:
    version: Version
    hashes: int


def _pins(name: str) -> dict[str, Pin]:
    """Each `name==version \\` entry of a lock file with the count of its hashes."""
    pins: dict[str, Pin] = {}
    current = ""
    for line in (LOCKS / name).read_text().splitlines():
        if match := _PIN.match(line):
            current = canonicalize_name(match[1])
            pins[current] = Pin(Version(match[2]), 0)
        elif current and _HASH.search(line):
            pins[current] = Pin(pins[current].version, pins[current].hashes + 1)
    return pins


def _requirements(*groups: str) -> list[Requirement]:
    project = PYPROJECT["project"]
    listed = list(project["dependencies"])
    for group in groups:
        listed += project["optional-dependencies"][group]
    return [Requirement(text) for text in listed]


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        ("main.txt", _requirements()),
        ("dev.txt", _requirements("dev")),
        ("build.txt", [Requirement(text) for text in PYPROJECT["build-system"]["requires"]]),
    ],
)
def test_the_lock_pins_every_requirement_within_its_range(
    lock: str, requirements: list[Requirement]
) -> None:
    pins = _pins(lock)
    for requirement in requirements:
        pin = pins.get(canonicalize_name(requirement.name))
        assert pin is not None, f"{requirement} is missing from {lock}: run `make lock`"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"{lock} pins {requirement.name} {pin.version} outside {requirement}: run `make lock`"
        )


@pytest.mark.parametrize("lock", ["main.txt", "dev.txt", "build.txt"])
def test_every_pin_carries_hashes(lock: str) -> None:
    pins = _pins(lock)
    assert pins
    assert [name for name, pin in pins.items() if pin.hashes == 0] == []


def test_the_tests_run_what_the_image_runs() -> None:
    dev = _pins("dev.txt")
    different = {
        name: (str(pin.version), str(dev[name].version) if name in dev else None)
        for name, pin in _pins("main.txt").items()
        if name not in dev or dev[name].version != pin.version
    }
    assert different == {}


def test_floors_and_pins_are_past_the_known_advisories() -> None:
    floors = {
        canonicalize_name(requirement.name): spec.version
        for requirement in _requirements("dev")
        for spec in requirement.specifier
        if spec.operator == ">="
    }
    pins = {**_pins("build.txt"), **_pins("dev.txt")}
    for name, (fixed, advisories) in FIXED.items():
        if name in floors:
            assert Version(floors[name]) >= Version(fixed), f"{name} floor allows {advisories}"
        assert pins[name].version >= Version(fixed), f"{name} pin has {advisories}"


def test_the_image_is_pinned_and_installs_only_from_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    bases = re.findall(r"^FROM\s+(\S+)", dockerfile, re.MULTILINE)
    assert bases
    assert [base for base in bases if not re.search(r"@sha256:[0-9a-f]{64}$", base)] == []
    installs = re.findall(r"pip install[^\n&\\]*", dockerfile)
    assert installs
    locked = re.compile(r"--require-hashes .*-r requirements/\S+\.txt$|--no-deps ")
    assert [command for command in installs if not locked.search(command.rstrip())] == []
