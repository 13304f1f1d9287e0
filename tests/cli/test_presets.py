"""PROVIDER picks a preset profile; PROVIDER_* settings override it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, load_settings
from bot.videoapi.models import Operation
from bot.videoapi.presets import PRESETS, PresetName

GENERATION_ONLY = frozenset(
    {
        Operation.EDIT,
        Operation.EXTEND,
        Operation.REMIX,
        Operation.CREATE_CHARACTER,
        Operation.GET_CHARACTER,
    }
)
EXPECTED: dict[PresetName, tuple[str, frozenset[Operation]]] = {
    "openai": ("auto", frozenset()),
    "generic": ("auto", frozenset()),
    "litellm": ("json", frozenset({Operation.DELETE, Operation.LIST})),
    "vllm-omni": ("multipart", GENERATION_ONLY),
    "sglang": ("auto", GENERATION_ONLY),
    "aquiles": ("json", GENERATION_ONLY),
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No developer's .env or PROVIDER_* variable may leak into these tests.
    monkeypatch.chdir(tmp_path)
    for name in (
        "PROVIDER",
        "PROVIDER_BODY",
        "PROVIDER_MODELS",
        "PROVIDER_SIZES",
        "PROVIDER_SECONDS",
        "PROVIDER_EXTEND_SECONDS",
        "PROVIDER_PRICE_PER_SECOND",
    ):
        monkeypatch.delenv(name, raising=False)


def test_the_default_provider_is_openais_contract() -> None:
    assert Settings().profile() == PRESETS["openai"]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_preset_gives_its_body_and_missing_operations(name: PresetName) -> None:
    profile = Settings(provider=name).profile()
    assert (profile.body, profile.missing) == EXPECTED[name]


@pytest.mark.parametrize("name", list(EXPECTED))
def test_provider_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, name: PresetName
) -> None:
    monkeypatch.setenv("PROVIDER", name)
    profile = load_settings().profile()
    assert (profile.body, profile.missing) == EXPECTED[name]


def test_an_unknown_provider_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER", "sora-cloud")
    with pytest.raises(SettingsError, match=r"^PROVIDER: "):
        load_settings()


def test_aquiles_brings_its_own_models_and_no_prices() -> None:
    profile = Settings(provider="aquiles").profile()
    assert profile.default_model == "wan2.2"
    assert "sora-2" not in profile.models
    assert profile.price_per_second == {}


@pytest.mark.parametrize(("name", "body"), [("vllm-omni", "json"), ("litellm", "multipart")])
def test_provider_body_overrides_the_presets_encoding(
    monkeypatch: pytest.MonkeyPatch, name: PresetName, body: str
) -> None:
    monkeypatch.setenv("PROVIDER", name)
    monkeypatch.setenv("PROVIDER_BODY", body)
    profile = load_settings().profile()
    assert profile.body == body
    assert profile.missing == EXPECTED[name][1]


def test_provider_lists_override_the_preset_and_keep_the_rest(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PROVIDER", "aquiles")
    monkeypatch.setenv("PROVIDER_MODELS", "ltx-2, wan2.2")
    monkeypatch.setenv("PROVIDER_SIZES", "832x480")
    monkeypatch.setenv("PROVIDER_SECONDS", "5")
    monkeypatch.setenv("PROVIDER_PRICE_PER_SECOND", "0.02")
    profile = load_settings().profile()
    assert profile.models == ("ltx-2", "wan2.2")
    assert profile.sizes == ("832x480",)
    assert profile.seconds == ("5",)
    assert profile.default_price_per_second == 0.02
    assert (profile.body, profile.missing) == EXPECTED["aquiles"]


def test_a_bad_provider_body_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVIDER_BODY", "xml")
    with pytest.raises(SettingsError, match=r"^PROVIDER_BODY: "):
        load_settings()
