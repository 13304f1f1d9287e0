"""The probe maps a provider's routes without creating anything billable."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from bot.videoapi.client import VideoClient
from bot.videoapi.errors import UnsupportedOperationError
from bot.videoapi.models import Operation
from bot.videoapi.probe import ProbeResult, probe

from .helpers import error_json, form_parts

NOT_FOUND = error_json("No video found with id 'video_probe_nonexistent'.", code="not_found")
MISSING_PAGE = "<html><body>Cannot find that page</body></html>"
EMPTY_PAGE: dict[str, object] = {
    "object": "list",
    "data": [],
    "first_id": None,
    "last_id": None,
    "has_more": False,
}


def partial_provider(router: respx.Router) -> None:
    """Create, list, retrieve, delete, download and remix; no edit, extend or characters."""
    router.post("/videos").respond(400, json=error_json("prompt is required", code="missing"))
    router.post("/videos/edits").respond(404, html=MISSING_PAGE)
    router.post("/videos/extensions").respond(405)
    router.post("/videos/video_probe_nonexistent/remix").respond(404, json=NOT_FOUND)
    router.post("/videos/characters").respond(501, text="Not Implemented")
    router.get("/videos/characters/char_probe_nonexistent").respond(404, text="404 page not found")
    router.get("/videos", params={"limit": "1"}).respond(json=EMPTY_PAGE)
    router.get("/videos/video_probe_nonexistent").respond(404, json=NOT_FOUND)
    router.delete("/videos/video_probe_nonexistent").respond(404, json=NOT_FOUND)
    router.get("/videos/video_probe_nonexistent/content").respond(422, json=error_json("bad"))


async def test_probe_of_a_partial_provider(router: respx.Router, client: VideoClient) -> None:
    partial_provider(router)

    results = await probe(client)

    assert results == {
        Operation.CREATE: ProbeResult("supported", 400),
        Operation.EDIT: ProbeResult("unsupported", 404),
        Operation.EXTEND: ProbeResult("unsupported", 405),
        Operation.REMIX: ProbeResult("supported", 404),
        Operation.CREATE_CHARACTER: ProbeResult("unsupported", 501),
        Operation.GET_CHARACTER: ProbeResult("unsupported", 404),
        Operation.LIST: ProbeResult("supported", 200),
        Operation.RETRIEVE: ProbeResult("supported", 404),
        Operation.DELETE: ProbeResult("supported", 404),
        Operation.DOWNLOAD: ProbeResult("supported", 422),
    }
    # The client remembers, so the bot can say "not available" without asking again.
    assert client.unsupported == {
        Operation.EDIT,
        Operation.EXTEND,
        Operation.CREATE_CHARACTER,
        Operation.GET_CHARACTER,
    }


async def test_probe_sends_nothing_that_could_start_a_job(
    router: respx.Router, client: VideoClient
) -> None:
    partial_provider(router)

    await probe(client)

    assert router.calls.call_count == len(Operation)
    for call in router.calls:
        request = call.request
        if request.method != "POST":
            assert request.content == b""
        elif request.url.path.endswith("/characters"):
            assert form_parts(request).keys() == {"name"}
        else:
            assert json.loads(request.content) == {}


async def test_probe_bypasses_input_checks_but_not_retries(
    router: respx.Router, client: VideoClient
) -> None:
    route = router.get("/videos").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=EMPTY_PAGE)]
    )
    router.route().respond(404, json=NOT_FOUND)

    results = await probe(client)

    assert results[Operation.LIST] == ProbeResult("supported", 200)
    assert route.call_count == 2


async def test_probe_reports_authentication_failures(
    router: respx.Router, client: VideoClient
) -> None:
    router.route().respond(401, json=error_json("Incorrect API key provided", code="bad_key"))

    results = await probe(client)

    assert {result.status for result in results.values()} == {"error"}
    reason = results[Operation.CREATE].reason
    assert reason is not None
    assert reason.startswith("authentication failed: Incorrect API key provided")
    assert all(client.supports(op) is None for op in Operation)


async def test_probe_reports_other_failures_as_errors(
    router: respx.Router, client: VideoClient
) -> None:
    router.route().mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))

    results = await probe(client)

    assert results[Operation.LIST] == ProbeResult(
        "error",
        None,
        "could not reach the video API (ConnectError: [Errno 111] Connection refused)",
    )


async def test_probe_relearns_what_the_client_had_marked(
    router: respx.Router, client: VideoClient
) -> None:
    router.get("/videos/video_1").respond(404, html=MISSING_PAGE)
    with pytest.raises(UnsupportedOperationError):
        await client.retrieve("video_1")
    assert client.supports(Operation.RETRIEVE) is False
    partial_provider(router)

    results = await probe(client)

    assert results[Operation.RETRIEVE] == ProbeResult("supported", 404)
    assert client.supports(Operation.RETRIEVE) is True
