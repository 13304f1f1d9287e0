"""The providers file: read at start, every mistake named in one line, no key in the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import SettingsError, load_settings
from bot.providers_file import ProvidersFileError, read_providers_file
from bot.videoapi.providers import DEFAULT_PROVIDER

TWO = """
[[providers]]
name = "openrouter"
kind = "openrouter"
base_url = "https://openrouter.ai/api/v1/"
api_key_env = "OPENROUTER_KEY"
models = ["google/veo-3.1"]
requests_per_minute = 30
price_per_second = { "google/veo-3.1" = 0.5 }

[[providers]]
name = "local"
kind = "vllm-omni"
base_url = "http://127.0.0.1:8000/v1"
models = ["wan2.2"]
default_price_per_second = 0

[equivalents]
"veo-3.1" = ["google/veo-3.1", "veo-3.1-generate-001"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "providers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_several_providers_file_in_order_with_keys_from_the_environment(tmp_path: Path) -> None:
    config = read_providers_file(write(tmp_path, TWO), {"OPENROUTER_KEY": "sk-or-1"})
    openrouter, local = config.specs
    assert (openrouter.name, local.name) == ("openrouter", "local")
    assert openrouter.base_url == "https://openrouter.ai/api/v1"
    assert openrouter.api_key is not None
    assert openrouter.api_key.get_secret_value() == "sk-or-1"
    assert openrouter.models == ("google/veo-3.1",)
    assert openrouter.profile.requests_per_minute == 30
    assert openrouter.profile.price_for("google/veo-3.1") == 0.5
    # The preset's own knowledge stays: OpenRouter lists nothing.
    assert "list" in {op.value for op in openrouter.profile.missing}
    assert local.api_key is None
    assert local.profile.models == ("wan2.2",)
    assert local.profile.price_for("wan2.2") == 0
    assert local.profile.body == "multipart"
    assert config.equivalents == {"veo-3.1": ("google/veo-3.1", "veo-3.1-generate-001")}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (TWO, "provider 'openrouter': OPENROUTER_KEY (its api_key_env) is not set"),
        ("providers = []", "providers: Tuple should have at least 1 item"),
        (
            '[[providers]]\nname = "a"\nkind = "nope"\nbase_url = "http://x"',
            "provider 'a': kind: Input should be",
        ),
        (
            '[[providers]]\nname = "a"\nbase_url = "http://x"\napi_key = "sk-1"',
            "provider 'a': api_key: Extra inputs are not permitted",
        ),
        (
            '[[providers]]\nname = "a"\nbase_url = "http://x"\n'
            '[[providers]]\nname = "a"\nbase_url = "http://y"',
            "provider names must differ: a given twice",
        ),
        (
            '[[providers]]\nname = "Bad Name"\nbase_url = "http://x"',
            "provider 'Bad Name': name: String should match pattern",
        ),
        (
            '[[providers]]\nname = "a"\nbase_url = "http://x"\n[equivalents]\nv = ["one"]',
            "equivalents 'v' needs two models or more",
        ),
        ("[[providers]\n", "is not valid TOML"),
    ],
)
def test_several_providers_file_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ProvidersFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_providers_file(write(tmp_path, text), {})


def test_several_providers_file_is_read_with_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_KEY", "sk-or-2")
    settings = load_settings(providers_file=write(tmp_path, TWO), _env_file=None)
    assert settings.providers is not None
    assert [spec.name for spec in settings.providers.specs] == ["openrouter", "local"]
    # A providers file names every key: the simulator is not started for a missing one.
    assert not settings.uses_simulator
    monkeypatch.delenv("OPENROUTER_KEY")
    with pytest.raises(SettingsError, match=r"PROVIDERS_FILE: .* OPENROUTER_KEY"):
        load_settings(providers_file=write(tmp_path, TWO), _env_file=None)
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings(providers_file=tmp_path / "missing.toml", _env_file=None)


def test_without_a_file_the_settings_make_the_default_provider() -> None:
    settings = load_settings(_env_file=None, provider="sglang", provider_models="wan2.2")
    assert settings.providers is None
    spec = settings.default_provider()
    assert (spec.name, spec.kind, spec.models) == (DEFAULT_PROVIDER, "sglang", ("wan2.2",))
    assert spec.profile == settings.profile()
