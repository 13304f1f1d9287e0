"""The program's entry points: one clear line for a bad setting, and `check` on any provider."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.__main__ import _check, main
from bot.config import load_settings
from bot.simulator import SimulatorConfig, serve
from bot.videoapi.models import Operation


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # No developer's .env or environment may leak into these tests.
    monkeypatch.chdir(tmp_path)
    for name in ("DISCORD_TOKEN", "OPENAI_API_KEY", "OPENAI_BASE_URL", "POLL_INTERVAL"):
        monkeypatch.delenv(name, raising=False)


def test_run_without_a_token_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "DISCORD_TOKEN" in err[0]


def test_a_copy_of_the_example_env_needs_only_the_token(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    text = example.read_text().replace("DISCORD_TOKEN=\n", "DISCORD_TOKEN=abc\n")
    (tmp_path / ".env").write_text(text)
    settings = load_settings()
    assert settings.require_discord_token().get_secret_value() == "abc"
    assert settings.dev_guild_id is None
    assert settings.uses_simulator


def test_the_request_budget_comes_from_the_preset_unless_set() -> None:
    assert load_settings(provider="openai").profile().requests_per_minute == 60
    assert load_settings(provider="vllm-omni").profile().requests_per_minute == 600
    chosen = load_settings(provider="openai", provider_requests_per_minute=300)
    assert chosen.profile().requests_per_minute == 300


def test_a_malformed_setting_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "token")
    monkeypatch.setenv("OPENAI_BASE_URL", "ftp://example")
    assert main(["run"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("videobot: OPENAI_BASE_URL:")


async def test_check_on_the_builtin_simulator(capsys: pytest.CaptureFixture[str]) -> None:
    assert await _check(load_settings()) == 0
    out = capsys.readouterr().out
    assert out.count(" supported") == len(Operation)
    assert out.strip().endswith("unsupported: none")


async def test_check_lists_exactly_the_missing_routes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = {Operation.EXTEND, Operation.CREATE_CHARACTER, Operation.GET_CHARACTER}
    config = SimulatorConfig(api_key="sk-partial", disabled_operations=frozenset(missing))
    async with serve(config) as base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-partial")
        assert await _check(load_settings()) == 0
    out = capsys.readouterr().out
    assert unsupported_in(out) == {op.value for op in missing}
    assert "sk-partial" not in out


def unsupported_in(out: str) -> set[str]:
    rows = [line.split() for line in out.splitlines() if line.startswith("  ")]
    return {row[0] for row in rows if row[1] == "unsupported"}


@pytest.mark.parametrize(("preset", "differs"), [("sglang", False), ("openai", True)])
async def test_check_compares_the_server_with_its_preset(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], preset: str, differs: bool
) -> None:
    async with serve(SimulatorConfig(api_key="sk-x", dialect="sglang")) as base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
        monkeypatch.setenv("PROVIDER", preset)
        assert await _check(load_settings()) == 0
    out = capsys.readouterr().out
    generation_only = {"edit", "extend", "remix", "create_character", "get_character"}
    assert unsupported_in(out) == generation_only
    assert f"(preset: {preset})" in out
    line = f"differs from the {preset} preset: "
    assert (line in out) == differs
    if differs:
        assert "edit, extend, remix, create_character, get_character" in out


async def test_check_with_a_wrong_key_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serve(SimulatorConfig(api_key="sk-right")) as base_url:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong")
        assert await _check(load_settings()) == 1
    out = capsys.readouterr().out
    assert "authentication failed" in out
    assert "sk-wrong" not in out


def test_the_operator_gives_one_server_a_higher_ceiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "videobot.sqlite3"))
    monkeypatch.setenv("MONTHLY_BUDGET_USD", "50")
    assert main(["limits", "9001", "monthly_budget", "200"]) == 0
    out = capsys.readouterr().out
    assert "monthly_budget: $200.00 (the environment's: $50.00)" in out
    assert "jobs_per_member: 2 at once (the environment's)" in out
    # Written to the database: read back by a later run, for this server only.
    assert main(["limits", "9001"]) == 0
    assert "monthly_budget: $200.00" in capsys.readouterr().out
    assert main(["limits", "9002"]) == 0
    assert "monthly_budget: $50.00 (the environment's)" in capsys.readouterr().out
    assert main(["limits", "9001", "monthly_budget", "default"]) == 0
    assert "monthly_budget: $50.00 (the environment's)" in capsys.readouterr().out


def test_the_operator_is_told_what_a_ceiling_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "videobot.sqlite3"))
    assert main(["limits", "9001", "monthly_budget", "2,50"]) == 2
    assert "ambiguous" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["limits", "9001", "budget", "5"])
    assert "limit must be one of" in capsys.readouterr().err
