"""The optional moderation check: OpenAI's `POST /v1/moderations` with `omni-moderation-latest`.

Off unless the operator sets MODERATION_API_KEY. Built from OpenAI's public API reference
(https://platform.openai.com/docs/api-reference/moderations/create) and the client that calls
it, openai-python (`src/openai/resources/moderations.py` posts `{"input", "model"}` to
`/moderations`; `src/openai/types/moderation_create_response.py` and `types/moderation.py` read
`{"id", "model", "results": [{"flagged", "categories", "category_scores", ...}]}`).

The rule when the endpoint fails: one request, bounded in time and bytes, never retried (a prompt
waits for it before the member is answered); anything but a readable 200 (a timeout, a refused
connection, 401, 429, 5xx, an answer without `results`) is `ModerationUnavailable`, on which
bot/spending/rules.py refuses the prompt (free, and said so): the operator turned the check on so
that no prompt goes out unchecked.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Final

import aiohttp
from pydantic import SecretStr

from bot.spending.rules import ModerationUnavailable

log = logging.getLogger(__name__)

MODERATION_MODEL: Final = "omni-moderation-latest"
# A verdict comes in well under a second; past this the member has waited long enough.
TIMEOUT: Final = aiohttp.ClientTimeout(total=10)
# A verdict is a few kilobytes (scores for a dozen categories).
ANSWER_MAX_BYTES: Final = 256 * 1024


class Moderation:
    """The check of one prompt against the configured endpoint."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api_key: SecretStr,
        *,
        model: str = MODERATION_MODEL,
        timeout: aiohttp.ClientTimeout = TIMEOUT,
    ) -> None:
        self._session = session
        self._url = base_url.rstrip("/") + "/moderations"
        self._key = api_key
        self._model = model
        self._timeout = timeout

    async def flagged(self, prompt: str) -> tuple[str, ...] | None:
        """The categories `prompt` is flagged for (empty when none is named), None when it
        is not flagged."""
        headers = {"Authorization": f"Bearer {self._key.get_secret_value()}"}
        body = {"model": self._model, "input": prompt}
        try:
            async with self._session.post(
                self._url, json=body, headers=headers, timeout=self._timeout
            ) as response:
                status = response.status
                raw = bytearray()
                async for chunk in response.content.iter_chunked(64 * 1024):
                    raw += chunk
                    if len(raw) > ANSWER_MAX_BYTES:
                        break
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("the moderation check did not answer: %r", exc)
            raise ModerationUnavailable(str(exc)) from None
        if status != 200 or len(raw) > ANSWER_MAX_BYTES:
            # The body may quote the prompt: only the status is logged.
            log.warning("the moderation check answered HTTP %d (%d bytes)", status, len(raw))
            raise ModerationUnavailable(f"HTTP {status}")
        return _verdict(bytes(raw))


def _verdict(raw: bytes) -> tuple[str, ...] | None:
    try:
        answer: Any = json.loads(raw)
        results = answer["results"]
        if not isinstance(results, list) or not results:
            raise ValueError("no results")
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("the moderation check answered something unreadable: %r", exc)
        raise ModerationUnavailable("unreadable answer") from None
    # One input, one result; should a server split it, any flagged part flags the prompt.
    flagged = [r for r in results if isinstance(r, dict) and r.get("flagged") is True]
    if not flagged:
        return None
    categories = sorted(
        {
            str(name)
            for result in flagged
            if isinstance(result.get("categories"), dict)
            for name, on in result["categories"].items()
            if on is True
        }
    )
    return tuple(categories)
