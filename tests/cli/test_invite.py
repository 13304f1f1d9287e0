"""`videobot invite`: offline, from the token or DISCORD_APPLICATION_ID, asking for what the
code uses and nothing more."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest

from bot.__main__ import main
from bot.cli.invite import application_id, invite_url
from bot.config import SettingsError, load_settings
from bot.ui.permissions import NEEDED, needed_permissions

BOT_ID = 1_234_567_890_123_456_789


def token_for(bot_id: int) -> str:
    first = base64.b64encode(str(bot_id).encode()).decode().rstrip("=")
    return f"{first}.GhIjKl.{'x' * 38}"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DISCORD_TOKEN", "DISCORD_APPLICATION_ID"):
        monkeypatch.delenv(name, raising=False)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_the_permission_integer_is_exactly_what_the_code_uses() -> None:
    asked = int(query(invite_url(BOT_ID))["permissions"][0])
    used = discord.Permissions.none()
    for needed in NEEDED:
        setattr(used, needed.flag, True)
    assert asked == used.value == needed_permissions().value
    # One bit per permission listed: none is asked for without a reason shown.
    assert asked.bit_count() == len(NEEDED)


def test_the_url_names_the_bots_application_and_both_scopes() -> None:
    url = invite_url(BOT_ID)
    assert url.startswith("https://discord.com/oauth2/authorize?")
    assert query(url)["client_id"] == [str(BOT_ID)]
    assert query(url)["scope"] == ["bot applications.commands"]


def test_the_id_comes_from_the_token_or_the_setting() -> None:
    assert application_id(load_settings(discord_token=token_for(BOT_ID))) == BOT_ID
    overridden = load_settings(discord_token=token_for(BOT_ID), discord_application_id=42)
    assert application_id(overridden) == 42
    assert application_id(load_settings(discord_application_id=42)) == 42


@pytest.mark.parametrize("token", ["not-a-token", "bm90IGRpZ2l0cw.a.b", "@@@.a.b"])
def test_a_token_without_an_id_says_what_to_do(token: str) -> None:
    with pytest.raises(SettingsError, match="DISCORD_APPLICATION_ID"):
        application_id(load_settings(discord_token=token))


def test_invite_prints_the_url_and_every_permission_with_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    token = token_for(BOT_ID)
    monkeypatch.setenv("DISCORD_TOKEN", token)
    assert main(["invite"]) == 0
    out = capsys.readouterr().out
    assert invite_url(BOT_ID) in out.splitlines()
    for needed in NEEDED:
        assert any(needed.label in line and needed.why in line for line in out.splitlines())
    assert token not in out
    assert token.split(".")[-1] not in out


def test_invite_without_a_token_names_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invite"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "DISCORD_TOKEN" in line
