"""What a failed create proves: that the provider made nothing, or nothing at all.

A create may move to another provider only after a refusal that certainly made nothing, because
no provider takes an idempotency key: sending the job elsewhere after a lost answer could make
and bill it twice. What the providers answer when they refuse (read 2026-12-05):

- 401 a key refused, 402 credits out (OpenRouter: "Insufficient credits"), 403 a key or account
  not allowed (OpenRouter also says 403 for a prompt its moderation flagged);
- 404 or 400 naming the model as unknown or retired (`ModelUnavailableError`, read by
  bot/videoapi/capabilities.py), and a create the provider does not serve at all
  (`UnsupportedOperationError`: a missing route, or LiteLLM's "... is not supported" 500);
- 429 once the client's usual waits are spent (bot/videoapi/retry.py waits them out first);
- 503 whose body says the job was not accepted: OpenRouter's "There is no available model
  provider that meets your routing requirements", LiteLLM's router "No deployments available
  for selected model", or a server saying it does not accept the job.

Any other 5xx, a timeout or a lost connection leaves the outcome unknown (OpenRouter's own 502
is "your chosen model is down or we received an invalid response from it": upstream may have
started it), and the job is looked for at the same provider. Every other refusal (a bad size, a
prompt refused, a body too large) is about the request: another provider would refuse it too.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from bot.videoapi.errors import (
    APIConnectionError,
    AuthenticationError,
    InternalServerError,
    ModelUnavailableError,
    PermissionDeniedError,
    RateLimitError,
    UnsupportedOperationError,
    VideoAPIError,
)

# Why a provider made nothing: the card and the log say it in words (bot/ui/text.py).
Refusal = Literal["key", "credits", "forbidden", "model", "unsupported", "busy", "not_accepted"]

PAYMENT_REQUIRED: Final = 402
SERVICE_UNAVAILABLE: Final = 503
_NOT_ACCEPTED = re.compile(
    r"\bno available (?:model )?providers?\b"
    r"|\bno (?:healthy )?deployments? available\b"
    r"|\b(?:not|never) (?:been )?accepted\b|\bdid not accept\b"
    r"|\bnot accepting (?:new |any )?(?:jobs|requests|videos|work)\b"
    r"|\b(?:nothing|no (?:job|video)) (?:was|has been) (?:created|made|queued|started)\b",
    re.IGNORECASE,
)


def nothing_made(error: BaseException) -> Refusal | None:
    """Why the create that raised `error` certainly made nothing at its provider, so another
    provider may take the job; None when the outcome is unknown or the request itself was bad."""
    if not isinstance(error, VideoAPIError):
        return None
    if isinstance(error, ModelUnavailableError):
        return "model"
    if isinstance(error, UnsupportedOperationError):
        return "unsupported"
    if isinstance(error, AuthenticationError):
        return "key"
    if isinstance(error, PermissionDeniedError):
        return "forbidden"
    if isinstance(error, RateLimitError):
        return "busy"
    if error.status == PAYMENT_REQUIRED:
        return "credits"
    if error.status == SERVICE_UNAVAILABLE and _says_not_accepted(error):
        return "not_accepted"
    return None


def answer_lost(error: BaseException) -> bool:
    """Whether the create may have made its job although no answer said so: it is looked for
    at the same provider, never sent to another."""
    lost = isinstance(error, InternalServerError | APIConnectionError)
    return lost and nothing_made(error) is None


def _says_not_accepted(error: VideoAPIError) -> bool:
    said = f"{error.message} {error.body if error.body is not None else ''}"
    return _NOT_ACCEPTED.search(said) is not None
