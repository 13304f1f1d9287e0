"""The contracts the tests check against: copies of shared/specs, unchanged, kept in the repo."""

from pathlib import Path

SPECS = Path(__file__).resolve().parents[1] / "specs"
OPENAI_VIDEOS_SPEC = SPECS / "openai-videos.openapi.yaml"
DISCORD_SPEC = SPECS / "discord.openapi.json"
