"""Reading what servers other than OpenAI's answer: other status names, missing or retyped fields.

Gateways and self-hosted servers speak the contract in dialects of their own. An answer that
can be understood is understood; a field that cannot be read is dropped, never a failed refresh.
"""

from __future__ import annotations

import datetime
import math
import time
from typing import Any, Literal

from pydantic import BaseModel

# The contract's four statuses, what every server's word is read into. Defined here, where the
# reading is, so that `models` (which reads through this module) is the only one importing.
VideoStatus = Literal["queued", "in_progress", "completed", "failed"]

# The names other servers give the contract's four statuses.
STATUS_ALIASES: dict[str, VideoStatus] = {
    "queued": "queued",
    "pending": "queued",
    "submitted": "queued",
    "in_progress": "in_progress",
    "processing": "in_progress",
    "running": "in_progress",
    "started": "in_progress",
    "generating": "in_progress",
    "completed": "completed",
    "succeeded": "completed",
    "success": "completed",
    "done": "completed",
    "failed": "failed",
    "error": "failed",
    "cancelled": "failed",
    "canceled": "failed",
    "expired": "failed",
}
# An unknown status is still running as far as the bot knows: never done, never failed.
UNKNOWN_STATUS: VideoStatus = "in_progress"
# A creation time of 0 or less is impossible (LiteLLM answers 0 for Runway and fal, whose task
# answers carry no time it reads), as is one more than ten years ahead of this clock (milliseconds,
# say). Ten years, not less: tests and other clocks the bot is given may run ahead of this one.
LATEST_CREATED_AHEAD = 10 * 365 * 86_400
# Why a job ended when the server gives a final status but no error object.
ENDED_WITHOUT_ERROR = {
    "cancelled": "The provider cancelled this job.",
    "canceled": "The provider cancelled this job.",
    "expired": "The provider let this job expire before it finished.",
}


def read_status(value: object) -> tuple[VideoStatus, str | None]:
    """The contract's status for what a server said, and the server's word when it is unknown."""
    text = str(value).strip().lower() if value is not None else ""
    known = STATUS_ALIASES.get(text)
    if known is not None:
        return known, None
    return UNKNOWN_STATUS, text or "(none)"


def read_int(value: object) -> int | None:
    """A whole number from an int, a float, a numeric string or an ISO 8601 time; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(float(text))
        except (ValueError, OverflowError):  # not a number, or inf/nan
            pass
        try:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        return int(moment.timestamp())
    return None


def read_created_at(value: object, now: float) -> int | None:
    """A plausible creation time, or None (then the bot's own time at create stands)."""
    moment = read_int(value)
    if moment is None or not 0 < moment <= now + LATEST_CREATED_AHEAD:
        return None
    return moment


def read_text(value: object) -> str | None:
    """A string field that some servers send as a number ("8" or 8, 8.0 seconds)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str | int | float):
        return str(value).strip() or None
    return None


def read_error(value: object, raw_status: object) -> dict[str, str] | None:
    """The contract's `{code, message}` from an object, a bare string, or a status alone."""
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        code = read_text(value.get("code")) or "error"
        message = read_text(value.get("message")) or code
        return {"code": code, "message": message}
    if isinstance(value, str) and value.strip():
        return {"code": "error", "message": value.strip()}
    reason = ENDED_WITHOUT_ERROR.get(str(raw_status).strip().lower())
    if reason is not None:
        return {"code": str(raw_status).strip().lower(), "message": reason}
    return None


def video_fields(data: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A video object with every field in the contract's type, and its unknown status if any."""
    fields = dict(data)
    status, unknown = read_status(data.get("status"))
    fields["status"] = status
    progress = read_int(data.get("progress"))
    if progress is None:
        progress = 100 if status == "completed" else 0
    fields["progress"] = max(0, min(100, progress))
    fields["created_at"] = read_created_at(data.get("created_at"), time.time())
    for name in ("completed_at", "expires_at"):
        fields[name] = read_int(data.get(name))
    for name in ("model", "size", "seconds", "prompt", "remixed_from_video_id"):
        fields[name] = read_text(data.get(name))
    # Only a failed job's error is its reason; elsewhere it is a server's leftover.
    failed = status == "failed"
    fields["error"] = read_error(data.get("error"), data.get("status")) if failed else None
    fields["object"] = "video"
    return fields, unknown
