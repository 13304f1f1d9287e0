"""Find out which operations a provider serves, without starting a single billable job.

Every POST goes out with a body the contract forbids, so a real route must refuse it (400/422)
while a missing one answers 404/405/501; id routes ask about a video that cannot exist. The
client's own classification decides what each answer means.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.videoapi.backend import VideoBackend
from bot.videoapi.errors import (
    AuthenticationError,
    PermissionDeniedError,
    UnsupportedOperationError,
    VideoAPIError,
)
from bot.videoapi.models import Operation
from bot.videoapi.wire import Multipart, RequestBody

NONEXISTENT_VIDEO = "video_probe_nonexistent"
NONEXISTENT_CHARACTER = "char_probe_nonexistent"

ProbeStatus = Literal["supported", "unsupported", "error"]


@dataclass(frozen=True, slots=True)
class ProbeResult:
    status: ProbeStatus
    http_status: int | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class _Probe:
    method: str
    path: str
    body: RequestBody | None = None
    params: dict[str, str | int] | None = None


_PROBES: dict[Operation, _Probe] = {
    # No prompt: invalid everywhere.
    Operation.CREATE: _Probe("POST", "/videos", {}),
    Operation.EDIT: _Probe("POST", "/videos/edits", {}),
    Operation.EXTEND: _Probe("POST", "/videos/extensions", {}),
    Operation.REMIX: _Probe("POST", f"/videos/{NONEXISTENT_VIDEO}/remix", {}),
    # Multipart with a name but without the required video.
    Operation.CREATE_CHARACTER: _Probe("POST", "/videos/characters", Multipart({"name": "probe"})),
    Operation.GET_CHARACTER: _Probe("GET", f"/videos/characters/{NONEXISTENT_CHARACTER}"),
    Operation.LIST: _Probe("GET", "/videos", params={"limit": 1}),
    Operation.RETRIEVE: _Probe("GET", f"/videos/{NONEXISTENT_VIDEO}"),
    Operation.DELETE: _Probe("DELETE", f"/videos/{NONEXISTENT_VIDEO}"),
    Operation.DOWNLOAD: _Probe("GET", f"/videos/{NONEXISTENT_VIDEO}/content"),
}


async def probe(client: VideoBackend) -> dict[Operation, ProbeResult]:
    """Ask about every operation afresh; the client keeps what it learns."""
    return {operation: await probe_one(client, operation) for operation in Operation}


async def probe_one(client: VideoBackend, operation: Operation) -> ProbeResult:
    check = _PROBES[operation]
    # A probe re-learns: a route missing yesterday may be served today.
    client.capabilities.forget(operation)
    try:
        response = await client.request(
            operation, check.method, check.path, body=check.body, params=check.params
        )
    except UnsupportedOperationError as exc:
        return ProbeResult("unsupported", exc.status)
    except (AuthenticationError, PermissionDeniedError) as exc:
        return ProbeResult("error", exc.status, f"authentication failed: {exc}")
    except VideoAPIError as exc:
        # A refusal from the route itself (400, 422, a 404 for the made-up id) proves it exists.
        if client.supports(operation):
            return ProbeResult("supported", exc.status)
        return ProbeResult("error", exc.status, str(exc))
    return ProbeResult("supported", response.status_code)
