"""A DEBUG log holds no interaction token and no SQL parameter, yet still says what happened."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.cli.logs import REDACTED, log_handler

from .botenv import StartBot
from .views import has_mp4, video_id

MARKER = "only-ever-an-sql-parameter-7731"


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    """Everything logged at DEBUG, through the program's own handler."""
    stream = io.StringIO()
    handler = log_handler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_debug_logs_hold_no_tokens_and_no_sql_parameters(
    start_bot: StartBot, debug_log: io.StringIO
) -> None:
    env = await start_bot(job_seconds=0.0)
    h = env.harness
    rec = await h.slash("video", {"prompt": "a quiet harbour"}, user=h.world.alice)
    card = await h.original(rec, has_mp4)
    sql = "UPDATE videos SET error_message = ? WHERE id = ?"
    await env.bot.db.execute(sql, (MARKER, video_id(card)))
    text = debug_log.getvalue()
    # What DEBUG is for is there: the Discord calls (the token masked), the statements.
    assert f"/interactions/{rec.id}/{REDACTED}/callback" in text
    assert f"/webhooks/{rec.application_id}/{REDACTED}/messages/@original" in text
    assert "execute UPDATE videos SET error_message = ? WHERE id = ?" in text
    # What must never be: the interaction's token, anywhere, or a statement's values.
    assert rec.token not in text
    assert MARKER not in text


def test_a_gateway_event_is_logged_without_its_token(debug_log: io.StringIO) -> None:
    # As discord.py's gateway logs every event at DEBUG (the harness feeds events past it).
    event = {"t": "INTERACTION_CREATE", "d": {"id": "1", "token": "aW50ZXJhY3Rpb246c2VjcmV0"}}
    logging.getLogger("discord.gateway").debug("For Shard ID %s: WebSocket Event: %s", 0, event)
    text = debug_log.getvalue()
    assert f"'token': '{REDACTED}'" in text
    assert "aW50ZXJhY3Rpb246c2VjcmV0" not in text
