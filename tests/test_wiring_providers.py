"""The wiring of several providers: every entry of the file, in order, each its own client."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.videoapi.providers import DEFAULT_PROVIDER
from bot.wiring import open_providers

# Nothing is sent: the clients are only built.
FILE = """
[[providers]]
name = "gateway"
kind = "litellm"
base_url = "http://127.0.0.1:9/v1"
api_key_env = "GATEWAY_KEY"

[[providers]]
name = "local"
kind = "vllm-omni"
base_url = "http://127.0.0.1:9/local/v1"
models = ["wan2.2"]
"""


async def test_routing_open_providers_builds_every_entry_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GATEWAY_KEY", "sk-gateway")
    path = tmp_path / "providers.toml"
    path.write_text(FILE, encoding="utf-8")
    settings = load_settings(_env_file=None, providers_file=path, openai_api_key="sk-old")
    with caplog.at_level(logging.WARNING, "videobot"):
        async with open_providers(settings) as providers:
            assert providers.names == ("gateway", "local")
            assert providers.get("gateway").base_url == "http://127.0.0.1:9/v1"
            assert providers.get("local").profile.body == "multipart"
            assert providers.offered_by("local") == ("wan2.2",)
    assert "PROVIDERS_FILE is set, so OPENAI_API_KEY is not used" in caplog.text
    assert "sk-" not in caplog.text


async def test_routing_without_a_file_the_one_provider_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        _env_file=None, openai_api_key="sk-x", openai_base_url="http://127.0.0.1:9/v1"
    )
    async with open_providers(settings) as providers:
        assert providers.names == (DEFAULT_PROVIDER,)
        assert providers.primary.base_url == "http://127.0.0.1:9/v1"
