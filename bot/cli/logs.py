"""Logging for the program: one setup, and a filter that keeps secrets out at every level.

At DEBUG, discord.py logs every REST call's URL (an interaction's or webhook's token is part of
it) and every gateway event (an interaction carries its token), and aiosqlite logs every call
with its SQL parameters (members' ids, prompts, ...). The filter masks the tokens and leaves
only the statement of a database call, so a DEBUG log can be shared without leaking either.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from typing import Final, TextIO

REDACTED: Final = "[redacted]"
# /interactions/<id>/<token>/callback and /webhooks/<application id>/<token>/...
_TOKEN_IN_URL = re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/?#\s'\"]+")
# "token": "…" in a gateway event or a payload, as JSON or as a Python dict's repr.
_TOKEN_FIELD = re.compile(r"""(['"]token['"]\s*:\s*['"])[^'"]+""")


def redact(text: str) -> str:
    """`text` with every interaction or webhook token masked."""
    return _TOKEN_FIELD.sub(rf"\1{REDACTED}", _TOKEN_IN_URL.sub(rf"\1{REDACTED}", text))


def _statement(call: object) -> object:
    """What aiosqlite is about to run, without its parameters: the method and its SQL."""
    if not isinstance(call, functools.partial):
        return call  # an exception: sqlite's messages name columns, never values
    name = getattr(call.func, "__name__", "call")
    sql = call.args[0] if call.args and isinstance(call.args[0], str) else ""
    return f"{name} {' '.join(sql.split())}".rstrip()


class Redact(logging.Filter):
    """On a handler: every record it writes, from any logger, without tokens or SQL values."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.partition(".")[0] == "aiosqlite" and isinstance(record.args, tuple):
            record.args = tuple(_statement(arg) for arg in record.args)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed call: the handler reports it as logging does
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


def log_handler(stream: TextIO) -> logging.Handler:
    """The program's one handler: formatted lines on `stream`, secrets masked."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    handler.addFilter(Redact())
    return handler


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level, handlers=[log_handler(sys.stderr)])
    # httpx logs every request at INFO; the tracker alone would drown the log.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, logging.getLevelName(level)))
