"""The commands that talk to Discord run against the end-to-end tests' fake Discord."""

from tests.e2e.conftest import fake_discord, world

__all__ = ["fake_discord", "world"]
