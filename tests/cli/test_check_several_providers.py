"""`videobot check` with several providers: one block each, in the operator's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import _check
from bot.config import load_settings
from bot.simulator import SimulatorConfig, serve
from bot.videoapi.presets import PRESETS


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "PROVIDER", "PROVIDERS_FILE"):
        monkeypatch.delenv(name, raising=False)


async def test_check_probes_several_providers_one_block_each(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = SimulatorConfig(api_key="sk-contract")
    local = SimulatorConfig(dialect="sglang", profile=PRESETS["sglang"])
    async with serve(contract) as contract_url, serve(local) as local_url:
        path = tmp_path / "providers.toml"
        path.write_text(
            f"""
[[providers]]
name = "contract"
base_url = "{contract_url}"
api_key_env = "CONTRACT_KEY"
price_per_second = {{ "sora-2" = 0.25 }}

[[providers]]
name = "local"
kind = "sglang"
base_url = "{local_url}"
models = ["wan2.2"]
default_price_per_second = 0
""",
            encoding="utf-8",
        )
        monkeypatch.setenv("CONTRACT_KEY", "sk-contract")
        assert await _check(load_settings(providers_file=path)) == 0
    out = capsys.readouterr().out
    first, second = out.split("\n\n")
    assert first.startswith(f"provider contract: {contract_url} (preset: generic)")
    assert "models: sora-2 ($0.25/s), sora-2-pro ($0.30/s)" in first
    assert first.strip().endswith("unsupported: none")
    assert second.startswith(f"provider local: {local_url} (preset: sglang)")
    assert "models: wan2.2 ($0.00/s)" in second
    assert "unsupported: edit, extend, remix, create_character, get_character" in second
    assert "differs" not in out
    assert "sk-contract" not in out


async def test_check_of_several_providers_fails_when_one_refuses_its_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with (
        serve(SimulatorConfig()) as open_url,
        serve(SimulatorConfig(api_key="sk-right")) as keyed_url,
    ):
        path = tmp_path / "providers.toml"
        path.write_text(
            f'[[providers]]\nname = "open"\nbase_url = "{open_url}"\n'
            f'[[providers]]\nname = "keyed"\nbase_url = "{keyed_url}"\napi_key_env = "KEYED"\n',
            encoding="utf-8",
        )
        monkeypatch.setenv("KEYED", "sk-wrong")
        assert await _check(load_settings(providers_file=path)) == 1
    out = capsys.readouterr().out
    assert out.count("provider ") == 2
    assert "authentication failed" in out.split("provider keyed")[1]
    assert "sk-wrong" not in out
